import cluster from 'node:cluster';
import {
  MemoryStore,
  type ClientRateLimitInfo,
  type Options,
  type Store,
} from 'express-rate-limit';

/**
 * Counting in the cluster primary, so that a client's budget is the same with any number of
 * workers: each worker asks the primary over IPC instead of keeping its own count (which would
 * multiply the limit by the worker count). Exact whatever worker a connection lands on, at the
 * cost of one IPC round trip per request. Under PM2 (no primary of ours) each process counts
 * alone: share a budget through Redis there.
 */

/** Set by the primary before it forks: its workers send their counts to it. */
export const PRIMARY_COUNTS_ENV = 'RATE_LIMIT_COUNTED_BY_PRIMARY';
/** No answer from the primary within this: count in the worker rather than wait. */
const PRIMARY_TIMEOUT_MS = 1000;

interface Ask {
  type: 'rate-limit:increment' | 'rate-limit:decrement' | 'rate-limit:reset';
  id: number;
  name: string;
  windowMs: number;
  key: string;
}

interface Answer {
  type: 'rate-limit:counted';
  id: number;
  totalHits: number;
  resetTime: number | undefined;
}

const isAsk = (message: unknown): message is Ask =>
  typeof (message as Ask | null)?.type === 'string' &&
  (message as Ask).type.startsWith('rate-limit:') &&
  typeof (message as Ask).key === 'string';

/** In the primary: one in-memory counter per limiter, answering every worker. */
export function countForWorkers(): void {
  const stores = new Map<string, MemoryStore>();
  const storeFor = (ask: Ask): MemoryStore => {
    let store = stores.get(ask.name);
    if (!store) {
      store = new MemoryStore();
      store.init({ windowMs: ask.windowMs } as Options);
      stores.set(ask.name, store);
    }
    return store;
  };
  cluster.on('message', (worker, message: unknown) => {
    if (!isAsk(message)) return;
    const store = storeFor(message);
    if (message.type === 'rate-limit:decrement') void store.decrement(message.key);
    else if (message.type === 'rate-limit:reset') void store.resetKey(message.key);
    else {
      void store.increment(message.key).then(({ totalHits, resetTime }) => {
        const answer: Answer = {
          type: 'rate-limit:counted',
          id: message.id,
          totalHits,
          resetTime: resetTime?.getTime(),
        };
        if (worker.isConnected()) worker.send(answer);
      });
    }
  });
}

/** In a worker: the express-rate-limit store that counts in the primary. */
export class PrimaryStore implements Store {
  readonly #local = new MemoryStore();
  readonly #pending = new Map<number, (answer: Answer) => void>();
  #nextId = 0;
  #windowMs = 60_000;
  readonly #onMessage = (message: unknown): void => {
    const answer = message as Answer | null;
    if (answer?.type === 'rate-limit:counted') this.#pending.get(answer.id)?.(answer);
  };

  /** Tells express-rate-limit that two limiters' counters are apart. */
  readonly prefix: string;

  constructor(private readonly name: string) {
    this.prefix = `${name}:`;
    process.on('message', this.#onMessage);
  }

  init(options: Options): void {
    this.#windowMs = options.windowMs;
    this.#local.init(options);
  }

  #send(type: Ask['type'], key: string, id = -1): void {
    const ask: Ask = { type, id, name: this.name, windowMs: this.#windowMs, key };
    process.send?.(ask);
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    if (!process.send || !process.connected) return this.#local.increment(key);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(this.#local.increment(key));
      }, PRIMARY_TIMEOUT_MS);
      this.#pending.set(id, (answer) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        const resetTime = answer.resetTime === undefined ? undefined : new Date(answer.resetTime);
        resolve({ totalHits: answer.totalHits, resetTime });
      });
      this.#send('rate-limit:increment', key, id);
    });
  }

  decrement(key: string): void {
    this.#send('rate-limit:decrement', key);
  }

  resetKey(key: string): void {
    this.#send('rate-limit:reset', key);
    void this.#local.resetKey(key);
  }

  shutdown(): void {
    process.off('message', this.#onMessage);
    this.#local.shutdown();
  }
}
