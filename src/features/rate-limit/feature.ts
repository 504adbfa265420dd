import type { Feature } from '../types.js';

export const rateLimit: Feature = {
  id: 'rate-limit',
  title: 'Rate limiting',
  description:
    'express-rate-limit with standard headers; one shared budget in Redis when redis is on.',
};
