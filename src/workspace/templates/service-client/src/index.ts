import { CircuitBreaker, type BreakerState } from './breaker.js';

/**
 * A small typed client for calling another service of this workspace over HTTP.
 *
 * - Each attempt is bounded by `timeoutMs` (AbortSignal.timeout): a hung service costs a caller
 *   at most that long per attempt.
 * - Idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried on a network error, a
 *   timeout or a 502/503/504, with exponential backoff and jitter. POST and PATCH are never
 *   retried: the service may already have acted on them.
 * - A circuit breaker (src/breaker.ts, the same design as the services' own) opens after
 *   `failureThreshold` failed calls in a row: calls then fail at once with
 *   ServiceUnavailableError (503) instead of waiting, while one probe at a time checks the
 *   service's /healthz; the first probe that answers closes it again.
 * - The caller's request id is sent as X-Request-Id, so one id follows a request across services.
 * - A service with the otel feature traces these calls without anything here: its SDK's fetch
 *   (undici) instrumentation records a CLIENT span per attempt and sends the W3C `traceparent`,
 *   so the called service's spans join the caller's trace (the breaker's /healthz probes excepted).
 *
 * Answers from the service (2xx, 4xx) are returned, not thrown: a 404 is an answer, not an outage.
 */

export interface ServiceClientOptions {
  /** The service's name, for messages ("users"). */
  name: string;
  /** Where it answers, without a trailing slash: `http://users:3000` or a gateway prefix. */
  baseUrl: string;
  /** Longest wait for one attempt. Default 2000. */
  timeoutMs?: number;
  /** Extra attempts for idempotent methods. Default 2. */
  retries?: number;
  /** Pause before the first retry; doubled for each next one. Default 100. */
  backoffMs?: number;
  /** Failed calls in a row that open the breaker. Default 5. */
  failureThreshold?: number;
  /** Pause between probes while open. Default 1000. */
  probeIntervalMs?: number;
  /** The id of the request being handled (the services' currentRequestId). */
  requestId?: () => string | undefined;
}

export interface ServiceResponse<T> {
  status: number;
  body: T;
}

/** The service cannot be reached (or its breaker is open). Express answers it with a JSON 503. */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
  readonly status = 503;
  readonly expose = false;
  readonly headers = { 'Retry-After': '1' };
}

/** A failed attempt: no answer or a 5xx. Retried (when idempotent) unless `final`. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly final = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * The base URL of `service` from `<SERVICE>_URL` (users → USERS_URL, order-items →
 * ORDER_ITEMS_URL), else `fallback`. A value that is not a URL stops start-up with its name.
 */
export function serviceUrl(
  env: Record<string, string | undefined>,
  service: string,
  fallback: string,
): string {
  const name = `${service.toUpperCase().replace(/-/g, '_')}_URL`;
  const value = env[name]?.trim() || fallback;
  if (!URL.canParse(value)) throw new Error(`${name} must be a URL, got "${value}"`);
  return value.replace(/\/+$/, '');
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ServiceClient {
  readonly #options: Required<Omit<ServiceClientOptions, 'requestId'>> &
    Pick<ServiceClientOptions, 'requestId'>;
  readonly #breaker: CircuitBreaker;

  constructor(options: ServiceClientOptions) {
    this.#options = {
      timeoutMs: 2000,
      retries: 2,
      backoffMs: 100,
      failureThreshold: 5,
      probeIntervalMs: 1000,
      ...options,
    };
    const { timeoutMs, retries, backoffMs, failureThreshold, probeIntervalMs } = this.#options;
    // The breaker's own bound covers every attempt and pause of one call.
    const budget = timeoutMs * (retries + 1) + backoffMs * 2 ** (retries + 1);
    this.#breaker = new CircuitBreaker({
      failureThreshold,
      timeoutMs: budget,
      probeIntervalMs,
      probe: async () => {
        const res = await fetch(`${this.#options.baseUrl}/healthz`, {
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!res.ok) throw new Error(`/healthz answered ${res.status}`);
      },
    });
  }

  get state(): BreakerState {
    return this.#breaker.state;
  }

  get<T>(path: string): Promise<ServiceResponse<T>> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<ServiceResponse<T>> {
    return this.request<T>('POST', path, body);
  }

  /** Sends one call (retried when idempotent); throws ServiceUnavailableError when it cannot. */
  request<T>(method: string, path: string, body?: unknown): Promise<ServiceResponse<T>> {
    const verb = method.toUpperCase();
    return this.#breaker.run(
      () => this.#attempts<T>(verb, path, body),
      (error) => {
        const why = error instanceof Error ? error.message : String(error);
        throw new ServiceUnavailableError(`${this.#options.name} is unavailable: ${why}`, {
          cause: error,
        });
      },
    );
  }

  /** Stops the breaker's background probes (on shutdown). */
  stop(): void {
    this.#breaker.stop();
  }

  async #attempts<T>(method: string, path: string, body: unknown): Promise<ServiceResponse<T>> {
    const tries = IDEMPOTENT.has(method) ? this.#options.retries + 1 : 1;
    let last: unknown;
    for (let attempt = 0; attempt < tries; attempt++) {
      if (attempt > 0) {
        // Full jitter: instances that failed together do not retry together.
        await pause(this.#options.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
      }
      try {
        return await this.#once<T>(method, path, body);
      } catch (error) {
        last = error;
        if (error instanceof AttemptError && error.final) break;
      }
    }
    throw last;
  }

  async #once<T>(method: string, path: string, body: unknown): Promise<ServiceResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const id = this.#options.requestId?.();
    if (id) headers['x-request-id'] = id;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.#options.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (error) {
      const why = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'failed';
      throw new AttemptError(`${method} ${path} ${why}`, false, { cause: error });
    }
    if (res.status >= 500) {
      await res.body?.cancel();
      // A 500 is a bug on the other side: counted by the breaker, but retrying will not help.
      const final = !RETRYABLE_STATUS.has(res.status);
      throw new AttemptError(`${method} ${path} answered ${res.status}`, final);
    }
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      body: (type.includes('json') && text ? JSON.parse(text) : text) as T,
    };
  }
}
