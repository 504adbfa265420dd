import type { Feature } from '../types.js';

export const rateLimit: Feature = {
  id: 'rate-limit',
  title: 'Rate limiting',
  description:
    'express-rate-limit with standard headers; one shared budget in Redis when redis is on.',
  // The Redis store only when redis is on (`add redis` then adds it through the merged package.json).
  dependencies: (project) =>
    project.has('redis') ? ['express-rate-limit', 'rate-limit-redis'] : ['express-rate-limit'],
  env: (project) => [
    {
      name: 'RATE_LIMIT_WINDOW_MS',
      example: '60000',
      comment: 'Length of the rate-limit window in milliseconds.',
    },
    {
      name: 'RATE_LIMIT_MAX',
      example: '100',
      comment: project.has('redis')
        ? 'Requests one client (by IP) may make per window, shared by every instance through Redis (per instance while Redis is unavailable).'
        : 'Requests one client (by IP) may make per window, per instance (the cluster primary counts for all its workers).',
    },
  ],
  appModule: true,
};
