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
 * multiply the limit by the worker count). Under PM2 (no primary of ours) each process counts
 * alone: share a budget through Redis there.
 *
 * The counts stay exact: the primary counts every request, in the order it receives them. What
 * keeps it cheap is batching: a worker collects the increments of one event-loop turn (every
 * request that arrived in it) and sends them as one message, and sends the next batch only once
 * the primary has answered the last one; the primary answers a batch with one message carrying
 * each request's count. Writing an IPC message costs far more than its size, so under load this
 * is one round trip for many requests instead of one each. The price: a request may wait for the
 * batch ahead of it, so at most two round trips to the primary instead of one (well under a
 * millisecond on a healthy machine); an idle worker sends a lone request at once.
 */

/** Set by the primary before it forks: its workers send their counts to it. */
export const PRIMARY_COUNTS_ENV = 'RATE_LIMIT_COUNTED_BY_PRIMARY';
/** No answer from the primary within this: count in the worker rather than wait. */
const PRIMARY_TIMEOUT_MS = 1000;

/** One turn's increments of one limiter (`keys` may repeat a key: each is one request). */
interface IncrementBatch {
  type: 'rate-limit:increments';
  id: number;
  name: string;
  windowMs: number;
  keys: string[];
}

interface KeyChange {
  type: 'rate-limit:decrement' | 'rate-limit:reset';
  name: string;
  windowMs: number;
  key: string;
}

type Ask = IncrementBatch | KeyChange;

/** The counts of a batch, in the order of its keys. */
export interface Counted {
  type: 'rate-limit:counted';
  id: number;
  totalHits: number[];
  /** Epoch milliseconds; null when the store gave none. */
  resetTimes: (number | null)[];
}

/** What a worker needs of its IPC channel (the worker's `process`; a fake in tests). */
export interface Channel {
  readonly connected: boolean;
  send?: (message: Ask) => unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * Each key's count right after its own increment, in order. (MemoryStore answers with its live
 * record of the client, which later increments change: read it before the next one.)
 */
async function countEach(store: MemoryStore, keys: string[]): Promise<ClientRateLimitInfo[]> {
  const infos: ClientRateLimitInfo[] = [];
  for (const key of keys) {
    const { totalHits, resetTime } = await store.increment(key);
    infos.push({ totalHits, resetTime });
  }
  return infos;
}

const isAsk = (message: unknown): message is Ask =>
  typeof (message as Ask | null)?.type === 'string' &&
  (message as Ask).type.startsWith('rate-limit:') &&
  typeof (message as Ask).name === 'string';

/**
 * In the primary: one in-memory counter per limiter. Returns the function that answers one
 * worker's message (`reply` sends the answer back to that worker).
 */
export function createCounter(): (message: unknown, reply: (answer: Counted) => void) => void {
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
  return (message, reply) => {
    if (!isAsk(message)) return;
    const store = storeFor(message);
    if (message.type === 'rate-limit:decrement') void store.decrement(message.key);
    else if (message.type === 'rate-limit:reset') void store.resetKey(message.key);
    else if (message.type === 'rate-limit:increments' && Array.isArray(message.keys)) {
      void countEach(store, message.keys).then((infos) => {
        reply({
          type: 'rate-limit:counted',
          id: message.id,
          totalHits: infos.map((info) => info.totalHits),
          resetTimes: infos.map((info) => info.resetTime?.getTime() ?? null),
        });
      });
    }
  };
}

/** In the primary: counts for every worker. */
export function countForWorkers(): void {
  const count = createCounter();
  cluster.on('message', (worker, message: unknown) => {
    count(message, (answer) => {
      if (worker.isConnected()) worker.send(answer);
    });
  });
}

interface Waiting {
  key: string;
  resolve: (info: ClientRateLimitInfo) => void;
}

/** In a worker: the express-rate-limit store that counts in the primary. */
export class PrimaryStore implements Store {
  readonly #local = new MemoryStore();
  /** Batches sent and not yet answered, by id. */
  readonly #sent = new Map<number, (answer: Counted | undefined) => void>();
  /** This turn's increments, sent together once the turn's I/O is handled. */
  #queue: Waiting[] = [];
  #nextId = 0;
  /** A batch is out and not yet answered. */
  #inFlight = false;
  #windowMs = 60_000;
  readonly #onMessage = (message: unknown): void => {
    const answer = message as Counted | null;
    if (answer?.type === 'rate-limit:counted') this.#sent.get(answer.id)?.(answer);
  };

  /** Tells express-rate-limit that two limiters' counters are apart. */
  readonly prefix: string;

  constructor(
    private readonly name: string,
    private readonly channel: Channel = process,
  ) {
    this.prefix = `${name}:`;
    channel.on('message', this.#onMessage);
  }

  init(options: Options): void {
    this.#windowMs = options.windowMs;
    this.#local.init(options);
  }

  #canSend(): boolean {
    return Boolean(this.channel.send) && this.channel.connected;
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    if (!this.#canSend()) return this.#local.increment(key);
    return new Promise((resolve) => {
      // setImmediate runs after the I/O of this turn: every request read in it joins the batch.
      // While a batch is out, the next one waits for its answer (and grows meanwhile).
      if (this.#queue.length === 0 && !this.#inFlight) setImmediate(() => this.#flush());
      this.#queue.push({ key, resolve });
    });
  }

  #flush(): void {
    if (this.#inFlight) return;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    if (!this.#canSend()) {
      this.#countLocally(batch);
      return;
    }
    const id = this.#nextId++;
    this.#inFlight = true;
    const timer = setTimeout(() => settle(undefined), PRIMARY_TIMEOUT_MS);
    const settle = (answer: Counted | undefined): void => {
      clearTimeout(timer);
      this.#sent.delete(id);
      this.#inFlight = false;
      if (this.#queue.length > 0) setImmediate(() => this.#flush());
      if (!answer || answer.totalHits.length !== batch.length) {
        this.#countLocally(batch);
        return;
      }
      batch.forEach(({ resolve }, i) => {
        const reset = answer.resetTimes[i];
        resolve({
          totalHits: answer.totalHits[i] ?? 0,
          resetTime: reset === null || reset === undefined ? undefined : new Date(reset),
        });
      });
    };
    this.#sent.set(id, settle);
    const ask: IncrementBatch = {
      type: 'rate-limit:increments',
      id,
      name: this.name,
      windowMs: this.#windowMs,
      keys: batch.map((waiting) => waiting.key),
    };
    this.channel.send?.(ask);
  }

  /** The primary is gone or silent: count these in this worker rather than keep them waiting. */
  #countLocally(batch: Waiting[]): void {
    void countEach(
      this.#local,
      batch.map((waiting) => waiting.key),
    ).then((infos) =>
      batch.forEach(({ resolve }, i) =>
        resolve(infos[i] ?? { totalHits: 0, resetTime: undefined }),
      ),
    );
  }

  /** For requests already counted (their increments answered): no need to wait for a batch. */
  #sendChange(type: KeyChange['type'], key: string): void {
    if (this.#canSend()) {
      this.channel.send?.({ type, name: this.name, windowMs: this.#windowMs, key });
    }
  }

  decrement(key: string): void {
    this.#sendChange('rate-limit:decrement', key);
  }

  resetKey(key: string): void {
    this.#sendChange('rate-limit:reset', key);
    void this.#local.resetKey(key);
  }

  shutdown(): void {
    // Nothing is left waiting on a primary this store no longer listens to.
    const queued = this.#queue;
    this.#queue = [];
    this.#countLocally(queued);
    for (const settle of [...this.#sent.values()]) settle(undefined);
    this.channel.off('message', this.#onMessage);
    this.#local.shutdown();
  }
}
