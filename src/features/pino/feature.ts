import type { Feature } from '../types.js';

export const pino: Feature = {
  id: 'pino',
  title: 'pino logging',
  description: 'Fast structured logs with pino-http, request ids and redaction.',
  conflicts: ['winston'],
  dependencies: ['pino', 'pino-http'],
  appModule: true,
};
