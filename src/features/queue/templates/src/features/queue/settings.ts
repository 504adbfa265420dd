import { ConfigError, readEnum, readInt, readString, readUrl, type Config } from '../../config.js';

export interface QueueSettings {
  /** The redis feature's REDIS_URL. Unset (development, tests): jobs run in this process. */
  redisUrl: string | undefined;
  name: string;
  concurrency: number;
  attempts: number;
  backoffMs: number;
  keepCompleted: number;
  keepFailed: number;
  enqueueTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** A job not renewed for this long is stalled; stalled jobs are looked for at this interval too. */
  lockDurationMs: number;
}

export function readQueueSettings(env: NodeJS.ProcessEnv, config: Config): QueueSettings {
  const redisUrl = readUrl(env, 'REDIS_URL');
  const inProcess = readEnum(env, 'QUEUE_IN_PROCESS', ['true', 'false'], 'false') === 'true';
  if (!redisUrl && !inProcess && config.nodeEnv === 'production') {
    throw new ConfigError(
      'REDIS_URL is required in production by the queue (without it jobs would run in the web process)',
    );
  }
  const name = readString(env, 'QUEUE_NAME', 'jobs');
  if (!/^[\w.-]{1,100}$/.test(name)) {
    throw new ConfigError(`QUEUE_NAME must be letters, digits, "_", "-" or ".", got "${name}"`);
  }
  return {
    redisUrl,
    name,
    concurrency: readInt(env, 'QUEUE_CONCURRENCY', 2, 1, 1000),
    attempts: readInt(env, 'QUEUE_ATTEMPTS', 3, 1, 100),
    backoffMs: readInt(env, 'QUEUE_BACKOFF_MS', 1000, 0, 3_600_000),
    keepCompleted: readInt(env, 'QUEUE_KEEP_COMPLETED', 1000, 0, 10_000_000),
    keepFailed: readInt(env, 'QUEUE_KEEP_FAILED', 5000, 0, 10_000_000),
    enqueueTimeoutMs: readInt(env, 'QUEUE_ENQUEUE_TIMEOUT_MS', 1000, 1, 60_000),
    shutdownTimeoutMs: readInt(env, 'QUEUE_SHUTDOWN_TIMEOUT_MS', 25_000, 0, 600_000),
    lockDurationMs: readInt(env, 'QUEUE_LOCK_DURATION_MS', 30_000, 500, 600_000),
  };
}
