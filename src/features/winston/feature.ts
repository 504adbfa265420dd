import type { Feature } from '../types.js';

export const winston: Feature = {
  id: 'winston',
  title: 'Winston logging',
  description:
    'Structured JSON logs with request ids in every line; one object per finished request.',
  conflicts: ['pino'],
  dependencies: ['winston'],
  appModule: true,
  env: () => [
    {
      name: 'LOG_FORMAT',
      example: '',
      comment:
        'json | pretty. Empty: pretty in development, JSON with timestamps and stacks otherwise.',
    },
  ],
};
