/**
 * A circuit breaker for a remote dependency on the request path (Redis, a database, a queue).
 *
 * Closed: calls go through, each bounded by `timeoutMs`. After `failureThreshold` consecutive
 * failures or timeouts it opens: calls are skipped at once (the caller's fallback runs: a cache
 * miss, a local count), so a hung dependency stops costing every request a timeout. While open,
 * one probe at a time checks the dependency in the background; the first probe that answers
 * closes the breaker. No dependency: the same piece serves Redis, a database or a queue.
 */

export type BreakerState = 'closed' | 'open';

export interface BreakerOptions {
  /** Consecutive failures (errors or timeouts) that open the breaker. */
  failureThreshold: number;
  /** A call slower than this counts as failed; the caller stops waiting. */
  timeoutMs: number;
  /** Pause after a failed probe before the next one. */
  probeIntervalMs: number;
  /**
   * Resolves when the dependency answers (for Redis: PING). Not cut short by a timeout: a hung
   * dependency keeps one probe waiting, never a growing pile of them, and its answer closes the
   * breaker the moment the dependency resumes. A failed probe is retried after `probeIntervalMs`.
   */
  probe: () => Promise<unknown>;
  /** Told of every change, with the failure that opened it. */
  onStateChange?: (state: BreakerState, error?: unknown) => void;
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Rejects with TimeoutError when `work` takes longer than `ms`; a late rejection is ignored. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #probeTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly options: BreakerOptions) {}

  get state(): BreakerState {
    return this.#state;
  }

  /**
   * Runs `call` while closed; returns `fallback(error)` when the breaker is open (at once) or
   * when the call fails or times out.
   */
  async run<T>(call: () => Promise<T>, fallback: (error: unknown) => T | Promise<T>): Promise<T> {
    if (this.#state === 'open') return fallback(new Error('circuit open'));
    try {
      const result = await withTimeout(call(), this.options.timeoutMs);
      this.#failures = 0;
      return result;
    } catch (error) {
      this.#failed(error);
      return fallback(error);
    }
  }

  /** Stops background probing (shutdown). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#probeTimer);
  }

  #failed(error: unknown): void {
    this.#failures += 1;
    if (this.#state === 'open' || this.#failures < this.options.failureThreshold) return;
    this.#state = 'open';
    this.options.onStateChange?.('open', error);
    this.#scheduleProbe();
  }

  #scheduleProbe(): void {
    if (this.#stopped) return;
    this.#probeTimer = setTimeout(() => void this.#probe(), this.options.probeIntervalMs);
    // A pending probe never keeps the process alive.
    this.#probeTimer.unref();
  }

  async #probe(): Promise<void> {
    try {
      await this.options.probe();
    } catch {
      this.#scheduleProbe();
      return;
    }
    if (this.#stopped) return;
    this.#failures = 0;
    this.#state = 'closed';
    this.options.onStateChange?.('closed');
  }
}
