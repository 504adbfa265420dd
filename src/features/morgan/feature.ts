import type { Feature } from '../types.js';

export const morgan: Feature = {
  id: 'morgan',
  title: 'Morgan access log',
  description:
    'A plain access log (Apache combined or common format) with the request id on every line.',
  // Each of them already logs every request: two request logs would write every request twice.
  conflicts: ['winston', 'pino'],
  dependencies: ['morgan'],
  devDependencies: ['@types/morgan'],
  appModule: true,
  env: () => [
    {
      name: 'MORGAN_FORMAT',
      example: 'combined',
      comment: 'combined | common: the Apache access log format of each request line.',
    },
  ],
};
