/** Pinned to a patch release (not a moving tag): the same Redis in Compose and Kubernetes. */
export const REDIS_IMAGE = 'redis:7.4.5-alpine';

/** The image's `redis` user: running as it skips the entrypoint's chown and privilege drop. */
const REDIS_USER = '999:999';

/**
 * Compose requires REDIS_PASSWORD (from the shell or the .env file beside docker-compose.yml)
 * and refuses to start without it. The password is part of REDIS_URL: use URL-safe characters,
 * e.g. `openssl rand -hex 32`.
 */
const PASSWORD = '${REDIS_PASSWORD:?set REDIS_PASSWORD (e.g. openssl rand -hex 32)}';

/**
 * Redis's service in docker-compose.yml, and what the app service needs to reach it: the
 * password-bearing REDIS_URL, and to wait until Redis is healthy. Merged with the docker
 * feature's app service.
 */
export function redisComposeServices(): Record<string, unknown> {
  return {
    app: {
      environment: { REDIS_URL: `redis://:${PASSWORD}@redis:6379` },
      depends_on: { redis: { condition: 'service_healthy' } },
    },
    redis: {
      image: REDIS_IMAGE,
      user: REDIS_USER,
      // A cache: no persistence, bounded memory, least-recently-used keys evicted first.
      command: [
        'redis-server',
        '--requirepass',
        PASSWORD,
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory',
        '256mb',
        '--maxmemory-policy',
        'allkeys-lru',
      ],
      // redis-cli (the health check) authenticates with REDISCLI_AUTH.
      environment: { REDISCLI_AUTH: PASSWORD },
      restart: 'unless-stopped',
      // Writes nothing (no persistence): a read-only root, a small /data for Redis's working folder.
      read_only: true,
      tmpfs: ['/data'],
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      deploy: { resources: { limits: { cpus: '0.5', memory: '300M' } } },
      healthcheck: {
        test: ['CMD', 'redis-cli', 'ping'],
        interval: '5s',
        timeout: '3s',
        retries: 5,
      },
    },
  };
}
