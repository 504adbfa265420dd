import type { Feature } from '../types.js';
import { redisComposeServices } from './compose.js';

export const redis: Feature = {
  id: 'redis',
  title: 'Redis cache',
  description:
    'node-redis client (one server, Cluster or Sentinel) behind a circuit breaker, cached() helper and GET middleware with single-flight and TTL jitter; in-memory LRU without Redis.',
  dependencies: ['redis', 'lru-cache'],
  env: (project) => [
    {
      name: 'REDIS_URL',
      example: 'redis://localhost:6379',
      comment:
        'Redis for the cache (and the shared rate-limit budget); docker-compose sets redis://redis:6379. Unset: an in-process LRU stands in. Redis down or hung: requests are served from the origin.',
      commented: true,
    },
    {
      name: 'REDIS_CLUSTER_NODES',
      example: 'redis-1:6379,redis-2:6379,redis-3:6379',
      comment:
        'Or a Redis Cluster (instead of REDIS_URL): some of its nodes, host:port or redis:// URLs; the rest are discovered.',
      commented: true,
    },
    {
      name: 'REDIS_SENTINELS',
      example: 'sentinel-1:26379,sentinel-2:26379,sentinel-3:26379',
      comment:
        'Or Redis Sentinel (instead of REDIS_URL): the sentinels, host:port, with the name of the master they watch.',
      commented: true,
    },
    {
      name: 'REDIS_SENTINEL_MASTER',
      example: 'mymaster',
      comment: 'The master name the sentinels know (with REDIS_SENTINELS).',
      commented: true,
    },
    {
      name: 'REDIS_PASSWORD',
      example: 'change-me',
      comment:
        'Password of the Cluster or Sentinel-managed Redis servers (a Cluster may also take it from its URLs).',
      commented: true,
    },
    {
      name: 'REDIS_KEY_PREFIX',
      example: `${project.name}:`,
      comment: 'Prefix of every cache key, so several apps can share one Redis.',
    },
    {
      name: 'REDIS_COMMAND_TIMEOUT_MS',
      example: '250',
      comment:
        'A Redis command slower than this counts as failed (a cache miss); after 3 failures in a row Redis is skipped at once and probed in the background until it answers.',
    },
    {
      name: 'CACHE_TTL_SECONDS',
      example: '60',
      comment: 'Default lifetime of cached responses (each entry gets up to 10% jitter).',
    },
    {
      name: 'CACHE_MAX_ENTRIES',
      example: '1000',
      comment: 'Size of the in-process LRU used when REDIS_URL is unset.',
    },
  ],
  appModule: true,
  composeServices: redisComposeServices,
};
