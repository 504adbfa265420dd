import { CircuitBreaker } from '../../breaker.js';
import type { Logger } from '../../logger.js';
import { serializeError } from '../../logger.js';
import {
  newBackend,
  reconnectDelay,
  type Backend,
  type RedisCommands,
  type RedisTarget,
} from './backends.js';

export type { RedisCommands, RedisTarget } from './backends.js';

/** What the connection needs from the redis feature's settings. */
export interface RedisConnectionSettings {
  target: RedisTarget;
  keyPrefix: string;
  commandTimeoutMs: number;
}

/** Consecutive failed or timed-out commands that open the breaker (skip Redis). */
const FAILURES_TO_OPEN = 3;
/** Pause between probes while Redis refuses connections. */
const PROBE_INTERVAL_MS = 500;

/**
 * Redis (one server, a Cluster or Sentinel) behind a circuit breaker. Every command goes through
 * `command()`: bounded by REDIS_COMMAND_TIMEOUT_MS (node-redis's own timeout does not cover a
 * command already sent to a Redis that stopped answering), and skipped at once while the breaker
 * is open, so a hung Redis costs a few requests one timeout each, then nothing.
 */
export class RedisConnection {
  readonly mode: RedisTarget['mode'];
  readonly keyPrefix: string;
  readonly breaker: CircuitBreaker;
  readonly #backend: Backend;
  readonly #commandTimeoutMs: number;
  #closing = false;

  constructor(settings: RedisConnectionSettings, logger: Logger) {
    this.mode = settings.target.mode;
    this.keyPrefix = settings.keyPrefix;
    this.#commandTimeoutMs = settings.commandTimeoutMs;
    this.#backend = newBackend(settings.target);
    this.breaker = new CircuitBreaker({
      failureThreshold: FAILURES_TO_OPEN,
      timeoutMs: settings.commandTimeoutMs,
      probeIntervalMs: PROBE_INTERVAL_MS,
      probe: () => this.#backend.probe(),
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
    const onError = (error: unknown): void => {
      const fields = { error: serializeError(error) };
      if (healthy) logger.warn('redis unavailable: serving without it', fields);
      else logger.debug('redis still unavailable', fields);
      healthy = false;
    };
    const onReady = (): void => {
      logger.info(healthy ? 'redis connected' : 'redis reconnected');
      healthy = true;
    };
    const { client } = this.#backend;
    client.on('error', onError);
    client.on('ready', onReady);
    // A Cluster reports each node's connection apart.
    client.on('node-error', onError);
    client.on('node-ready', () => !healthy && onReady());
    // A Cluster is ready once it knows which node owns which slots (it has no 'ready' event).
    if (this.mode === 'cluster') client.on('connect', onReady);
    // Do not wait: the app serves while Redis is down at boot and connects later.
    void this.#connect(logger, 0);
  }

  /**
   * One client retries by itself; a Cluster or Sentinel whose every root node is unreachable
   * rejects `connect()`, so try again after a pause until Redis answers or the app stops.
   */
  async #connect(logger: Logger, attempt: number): Promise<void> {
    try {
      await this.#backend.connect();
    } catch (error) {
      if (this.#closing) return;
      logger.debug('redis connect failed: retrying', { error: serializeError(error) });
      await new Promise((resolve) => setTimeout(resolve, reconnectDelay(attempt)).unref());
      if (!this.#closing) await this.#connect(logger, attempt + 1);
    }
  }

  /** The node-redis client (createClient, createCluster or createSentinel) for anything else. */
  get client(): Backend['client'] {
    return this.#backend.client;
  }

  /** Connected, and the breaker lets commands through. */
  get available(): boolean {
    return this.#backend.client.isReady && this.breaker.state === 'closed';
  }

  /**
   * Runs `run` against Redis, or returns `fallback(error)` at once when Redis is disconnected or
   * the breaker is open, and after REDIS_COMMAND_TIMEOUT_MS when Redis does not answer.
   */
  command<T>(
    run: (redis: RedisCommands) => Promise<T>,
    fallback: (error: unknown) => T | Promise<T>,
  ): Promise<T> {
    if (!this.#backend.client.isReady) {
      return Promise.resolve(fallback(new Error('redis not connected')));
    }
    return this.breaker.run(() => run(this.#backend.commands), fallback);
  }

  /**
   * Readiness: every Redis server answers within one command timeout. Apart from the breaker:
   * frequent probes of a Cluster with one master down must not open it for the other masters.
   */
  async allAnswer(): Promise<boolean> {
    if (!this.available) return false;
    const timeout = new Promise<false>((resolve) =>
      setTimeout(resolve, this.#commandTimeoutMs, false).unref(),
    );
    return Promise.race([this.#backend.allAnswer().catch(() => false), timeout]);
  }

  /** Closes the connection, waiting at most 2 s for pending replies. */
  async close(): Promise<void> {
    this.#closing = true;
    this.breaker.stop();
    if (!this.#backend.client.isReady) {
      await this.#backend.destroy();
      return;
    }
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(resolve, 2000, 'timeout').unref(),
    );
    const closed = this.#backend.close().then(() => 'closed' as const);
    if ((await Promise.race([closed, timeout])) === 'timeout') await this.#backend.destroy();
  }
}
