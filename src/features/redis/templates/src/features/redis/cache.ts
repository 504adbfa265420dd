import { LRUCache } from 'lru-cache';
import type { Logger } from '../../logger.js';
import { serializeError } from '../../logger.js';
import type { RedisConnection } from './client.js';

/**
 * Where cached values live: Redis (shared by every instance) or this process's memory. A store
 * never throws: a slow, down or full store is a miss on read and a no-op on write.
 */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
}

/** In this process's memory (lru-cache): the stand-in when REDIS_URL is unset. */
export function memoryStore(maxEntries: number): CacheStore {
  const lru = new LRUCache<string, string>({ max: maxEntries });
  return {
    get: async (key) => lru.get(key),
    set: async (key, value, ttlSeconds) => {
      lru.set(key, value, { ttl: ttlSeconds * 1000 });
    },
  };
}

/** In Redis, behind the connection's circuit breaker: a Redis problem is a miss. */
export function redisStore(redis: RedisConnection, logger: Logger): CacheStore {
  const miss = (error: unknown): undefined => {
    logger.debug('cache read skipped: counted as a miss', { error: serializeError(error) });
    return undefined;
  };
  return {
    get: (key) =>
      redis.command(async (client) => (await client.get(redis.keyPrefix + key)) ?? undefined, miss),
    set: (key, value, ttlSeconds) =>
      redis.command(
        async (client) => void (await client.set(redis.keyPrefix + key, value, ttlSeconds)),
        (error) => void miss(error),
      ),
  };
}

/** TTL with up to 10% random jitter, so keys written together do not expire together. */
export function jitteredTtl(ttlSeconds: number): number {
  return Math.max(1, Math.round(ttlSeconds * (1 + Math.random() * 0.1)));
}

/**
 * The cache the redis feature puts in `ctx.services.cache`: a store plus single-flight, so a
 * burst of misses on one key runs its loader once per process.
 */
export class Cache {
  /** Loads running now, by key. */
  readonly #inflight = new Map<string, Promise<unknown>>();
  /** Flights whose value is known and being written: joining one is a cache hit. */
  readonly #settled = new WeakSet<Promise<unknown>>();

  constructor(
    private readonly store: CacheStore,
    readonly defaultTtlSeconds: number,
  ) {}

  get(key: string): Promise<string | undefined> {
    return this.store.get(key);
  }

  /** Stores `value` for `ttlSeconds` plus up to 10% jitter. */
  set(key: string, value: string, ttlSeconds = this.defaultTtlSeconds): Promise<void> {
    return this.store.set(key, value, jitteredTtl(ttlSeconds));
  }

  /** The load running now for `key`, if any, and whether its value is already known. */
  running<T>(key: string): { flight: Promise<T>; settled: boolean } | undefined {
    const flight = this.#inflight.get(key) as Promise<T> | undefined;
    return flight && { flight, settled: this.#settled.has(flight) };
  }

  /**
   * Runs `load` once among concurrent callers of one key; its result, serialized, is stored
   * before the flight ends, so callers arriving a moment later read it from the store.
   */
  singleFlight<T>(
    key: string,
    load: () => Promise<T>,
    serialize: (value: T) => string | undefined,
    ttlSeconds: number,
  ): Promise<T> {
    const joined = this.running<T>(key);
    if (joined) return joined.flight;
    const flight = load().then(async (value) => {
      this.#settled.add(flight);
      const text = serialize(value);
      if (text !== undefined) await this.set(key, text, ttlSeconds);
      return value;
    });
    this.#inflight.set(key, flight);
    const done = (): void => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
    };
    flight.then(done, done);
    return flight;
  }

  /**
   * Cache-aside: the cached value of `key`, else `load()`'s result, stored for `ttlSeconds`.
   * Values must survive JSON. Errors of `load` are not cached and reach the caller.
   */
  async wrap<T>(
    key: string,
    ttlSeconds: number,
    load: () => Promise<T>,
  ): Promise<{ value: T; hit: boolean }> {
    const fullKey = `fn:${key}`;
    const joined = this.running<T>(fullKey);
    if (joined) return { hit: joined.settled, value: await joined.flight };
    const stored = await this.get(fullKey);
    if (stored !== undefined) {
      try {
        return { value: JSON.parse(stored) as T, hit: true };
      } catch {
        // A value this code did not write: reload it.
      }
    }
    const value = await this.singleFlight(fullKey, load, (v) => JSON.stringify(v), ttlSeconds);
    return { value, hit: false };
  }
}

/**
 * Cache-aside with the app's cache (`ctx.services.cache`); without one (the redis feature
 * removed) it simply calls `load`.
 */
export async function cached<T>(
  cache: Cache | undefined,
  key: string,
  ttlSeconds: number,
  load: () => Promise<T>,
): Promise<T> {
  if (!cache) return load();
  return (await cache.wrap(key, ttlSeconds, load)).value;
}
