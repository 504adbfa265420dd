import type { RedisOptions } from 'bullmq';
import type { QueueSettings } from './settings.js';

/** Longest pause between reconnect attempts: Redis coming back is noticed within this. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * ioredis options for BullMQ. Reconnects forever with a capped, jittered backoff (BullMQ's default
 * backs off up to 20 s), so a restarted Redis is picked up again within about 2 s, no restart.
 */
export function connectionOptions(settings: QueueSettings & { redisUrl: string }): RedisOptions {
  return {
    url: settings.redisUrl,
    connectTimeout: 2000,
    retryStrategy: (times: number) =>
      Math.min(100 * 2 ** Math.min(times, 10), MAX_RECONNECT_DELAY_MS) +
      Math.floor(Math.random() * 100),
  };
}

/** What every job gets: retries with exponential backoff, bounded history, failed jobs kept. */
export function defaultJobOptions(settings: QueueSettings) {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
    removeOnComplete: { count: settings.keepCompleted },
    removeOnFail: { count: settings.keepFailed },
  };
}
