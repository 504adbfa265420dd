import { OTEL_NODE_FLAGS } from '../otel/feature.js';
import type { Feature, ProjectContext } from '../types.js';

/**
 * The worker's service in docker-compose.yml: the app's image, `node dist/worker.js`, its own
 * replica count. Redis switches to `noeviction`: BullMQ keeps jobs as Redis keys, and the cache's
 * `allkeys-lru` would silently drop queued jobs under memory pressure.
 */
function composeServices(project: ProjectContext): Record<string, unknown> {
  const password = '${REDIS_PASSWORD:?set REDIS_PASSWORD (e.g. openssl rand -hex 32)}';
  return {
    worker: {
      // The app's image (the same build, the same tag): Compose builds it once per change.
      build: '.',
      image: `${project.name}:0.1.0`,
      // argv, not a shell string: node is the process that gets SIGTERM (init forwards it).
      // With otel: preloaded like the app, so the jobs' spans join their requests' traces.
      command: project.has('otel')
        ? ['node', ...OTEL_NODE_FLAGS.split(' '), 'dist/worker.js']
        : ['node', 'dist/worker.js'],
      init: true,
      restart: 'unless-stopped',
      environment: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        REDIS_URL: `redis://:${password}@redis:6379`,
        QUEUE_CONCURRENCY: '2',
        QUEUE_SHUTDOWN_TIMEOUT_MS: '25000',
      },
      read_only: true,
      tmpfs: ['/tmp'],
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      deploy: { replicas: 2, resources: { limits: { cpus: '1', memory: '512M' } } },
      depends_on: { redis: { condition: 'service_healthy' } },
      // Above QUEUE_SHUTDOWN_TIMEOUT_MS: active jobs finish before Compose sends SIGKILL.
      stop_grace_period: '30s',
    },
    redis: {
      command: [
        'redis-server',
        '--requirepass',
        password,
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory',
        '256mb',
        '--maxmemory-policy',
        'noeviction',
      ],
    },
  };
}

export const queue: Feature = {
  id: 'queue',
  title: 'Job queue (BullMQ)',
  description:
    'BullMQ on Redis: enqueue() for routes, a separate worker process (npm run worker) with retries, backoff, de-duplication and graceful shutdown; in-process without REDIS_URL in development.',
  requires: ['redis'],
  // BullMQ talks to Redis through ioredis (its long-standing driver, with the blocking commands
  // its workers need); the cache keeps node-redis. Two clients, one Redis.
  dependencies: ['bullmq', 'ioredis'],
  // The example route and its test are the user's from the start. The handlers (src/jobs/) are
  // generated like the feature's modules, because the worker and the app import them: `add queue`
  // must write them too (it never writes createOnly files). Edit them freely: a later change the
  // CLI would make to an edited file is a conflict, never a silent overwrite.
  createOnly: ['src/routes/reports.ts', 'test/reports.test.ts'],
  scripts: (project) => ({
    worker: 'tsx watch --include .env src/worker.ts',
    'start:worker': project.has('otel')
      ? `node ${OTEL_NODE_FLAGS} dist/worker.js`
      : 'node dist/worker.js',
  }),
  env: () => [
    {
      name: 'QUEUE_IN_PROCESS',
      example: 'true',
      comment:
        'Production without REDIS_URL is refused at start; true runs jobs in the web process anyway (checks and demos, never real traffic).',
      commented: true,
    },
    {
      name: 'QUEUE_NAME',
      example: 'jobs',
      comment: 'The BullMQ queue the app enqueues to and the workers take jobs from.',
    },
    {
      name: 'QUEUE_CONCURRENCY',
      example: '2',
      comment: 'Jobs one worker process runs at a time.',
    },
    {
      name: 'QUEUE_ATTEMPTS',
      example: '3',
      comment:
        'Tries per job (the first included); retries wait QUEUE_BACKOFF_MS, doubling each time.',
    },
    {
      name: 'QUEUE_BACKOFF_MS',
      example: '1000',
      comment: 'The first retry delay (exponential backoff).',
    },
    {
      name: 'QUEUE_KEEP_COMPLETED',
      example: '1000',
      comment:
        'Finished jobs kept (for GET /api/reports/:id and de-duplication by job id); older ones are removed.',
    },
    {
      name: 'QUEUE_KEEP_FAILED',
      example: '5000',
      comment: 'Failed jobs kept for inspection.',
    },
    {
      name: 'QUEUE_ENQUEUE_TIMEOUT_MS',
      example: '1000',
      comment:
        'enqueue() fails (503) after this when Redis is down or hung: a request never waits on it.',
    },
    {
      name: 'QUEUE_SHUTDOWN_TIMEOUT_MS',
      example: '25000',
      comment:
        "On SIGTERM the worker stops taking jobs and gives active ones this long; keep it below the platform's grace period.",
    },
    {
      name: 'QUEUE_LOCK_DURATION_MS',
      example: '30000',
      comment:
        'A job whose worker died (no lock renewal for this long) is stalled and handed to another worker.',
    },
  ],
  appModule: true,
  composeServices,
  // Production requires REDIS_URL; verify's boot has no Redis, so its jobs run in process.
  verifyEnv: () => ({ QUEUE_IN_PROCESS: 'true' }),
};
