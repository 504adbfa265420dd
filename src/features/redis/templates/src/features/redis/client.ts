import { createClient } from 'redis';
import { CircuitBreaker } from '../../breaker.js';
import type { Logger } from '../../logger.js';
import { serializeError } from '../../logger.js';

/** What the connection needs from the redis feature's settings. */
export interface RedisConnectionSettings {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
}

/** Consecutive failed or timed-out commands that open the breaker (skip Redis). */
const FAILURES_TO_OPEN = 3;
/** Pause between probes (PING) while Redis refuses connections. */
const PROBE_INTERVAL_MS = 500;
/** Longest pause between reconnect attempts: Redis coming back is noticed within this. */
const MAX_RECONNECT_DELAY_MS = 2000;

function newClient(settings: RedisConnectionSettings) {
  return createClient({
    url: settings.url,
    // Fail fast while disconnected instead of queueing commands in memory until Redis is back.
    disableOfflineQueue: true,
    // Never let the queue grow without bound when Redis is slow: a full queue is a failure.
    commandsQueueMaxLength: 1000,
    socket: {
      connectTimeout: 2000,
      // Retry forever with a capped, jittered backoff: Redis coming back resumes caching
      // without a restart, and a long outage costs one attempt every couple of seconds.
      reconnectStrategy: (retries) =>
        Math.min(100 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS) +
        Math.floor(Math.random() * 100),
    },
  });
}

export type RedisClient = ReturnType<typeof newClient>;

/**
 * One node-redis client behind a circuit breaker. Every command goes through `command()`:
 * bounded by REDIS_COMMAND_TIMEOUT_MS (node-redis's own timeout does not cover a command already
 * sent to a Redis that stopped answering), and skipped at once while the breaker is open, so a
 * hung Redis costs a few requests one timeout each, then nothing.
 */
export class RedisConnection {
  readonly client: RedisClient;
  readonly keyPrefix: string;
  readonly breaker: CircuitBreaker;

  constructor(settings: RedisConnectionSettings, logger: Logger) {
    this.keyPrefix = settings.keyPrefix;
    this.client = newClient(settings);
    this.breaker = new CircuitBreaker({
      failureThreshold: FAILURES_TO_OPEN,
      timeoutMs: settings.commandTimeoutMs,
      probeIntervalMs: PROBE_INTERVAL_MS,
      probe: () => this.client.ping(),
      onStateChange: (state, error) => {
        if (state === 'open') {
          logger.warn('redis not answering: circuit open, serving without it', {
            error: serializeError(error),
          });
        } else {
          logger.info('redis answers again: circuit closed');
        }
      },
    });
    // Mandatory: without an 'error' listener node-redis errors crash the process. Each failed
    // reconnect emits one, so log the first of an outage and keep the rest at debug level.
    let healthy = true;
    this.client.on('error', (error: unknown) => {
      const fields = { error: serializeError(error) };
      if (healthy) logger.warn('redis unavailable: serving without it', fields);
      else logger.debug('redis still unavailable', fields);
      healthy = false;
    });
    this.client.on('ready', () => {
      logger.info(healthy ? 'redis connected' : 'redis reconnected');
      healthy = true;
    });
    // Do not wait: the app serves while Redis is down at boot and connects later.
    this.client.connect().catch((error: unknown) => {
      // Only reached when the client is closed during shutdown.
      logger.debug('redis connect ended', { error: serializeError(error) });
    });
  }

  /** Connected, and the breaker lets commands through. */
  get available(): boolean {
    return this.client.isReady && this.breaker.state === 'closed';
  }

  /**
   * Runs `run` against Redis, or returns `fallback(error)` at once when Redis is disconnected or
   * the breaker is open, and after REDIS_COMMAND_TIMEOUT_MS when Redis does not answer.
   */
  command<T>(
    run: (client: RedisClient) => Promise<T>,
    fallback: (error: unknown) => T | Promise<T>,
  ): Promise<T> {
    if (!this.client.isReady) return Promise.resolve(fallback(new Error('redis not connected')));
    return this.breaker.run(() => run(this.client), fallback);
  }

  /** Closes the connection, waiting at most 2 s for pending replies. */
  async close(): Promise<void> {
    this.breaker.stop();
    if (!this.client.isReady) {
      this.client.destroy();
      return;
    }
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(resolve, 2000, 'timeout').unref(),
    );
    const closed = this.client.close().then(() => 'closed' as const);
    if ((await Promise.race([closed, timeout])) === 'timeout') this.client.destroy();
  }
}
