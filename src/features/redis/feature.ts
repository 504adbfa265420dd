import type { Feature } from '../types.js';

export const redis: Feature = {
  id: 'redis',
  title: 'Redis cache',
  description:
    'node-redis client, cached() helper and GET middleware with single-flight and TTL jitter; in-memory LRU without Redis.',
};
