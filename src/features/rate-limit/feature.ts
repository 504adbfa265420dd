import type { Feature } from '../types.js';

export const rateLimit: Feature = {
  id: 'rate-limit',
  title: 'Rate limiting',
  description:
    'express-rate-limit with standard headers; one shared budget in Redis when redis is on.',
  // rate-limit-redis (no dependencies of its own) is always listed: dependencies are static, and
  // it lets `add redis` move the budget into Redis without another package change.
  dependencies: ['express-rate-limit', 'rate-limit-redis'],
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
        ? 'Requests one client (by IP) may make per window, shared by every instance through Redis.'
        : 'Requests one client (by IP) may make per window, counted in each process.',
    },
  ],
  appModule: { order: 40 },
};
