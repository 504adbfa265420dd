import type { Request, RequestHandler } from 'express';
import type { Cache } from './cache.js';

/** The cache key of a request: path plus query parameters in a stable order. */
export function normalizedUrlKey(originalUrl: string): string {
  const url = new URL(originalUrl, 'http://localhost');
  url.searchParams.sort();
  return `${url.pathname}${url.search}`;
}

export interface CacheResponseOptions {
  /** Lifetime of a cached response; default CACHE_TTL_SECONDS. */
  ttlSeconds?: number;
  /**
   * The key of a request (default: its normalized URL). Every distinct key is one entry, so
   * when clients choose the query, key on the values you accept rather than on the raw URL.
   */
  key?: (req: Request) => string;
}

interface CachedResponse {
  status: number;
  contentType: string | undefined;
  body: string;
}

/**
 * Caches successful (200) GET responses for `ttlSeconds`, with an `X-Cache: HIT|MISS` header.
 * Concurrent misses on one key run the handler once; the others get its response. Use it only
 * for responses that are the same for every user. Without a cache it does nothing.
 */
export function cacheResponse(
  cache: Cache | undefined,
  options: CacheResponseOptions = {},
): RequestHandler {
  return async (req, res, next) => {
    if (!cache || (req.method !== 'GET' && req.method !== 'HEAD')) {
      next();
      return;
    }
    const ttl = options.ttlSeconds ?? cache.defaultTtlSeconds;
    const key = `http:${options.key ? options.key(req) : normalizedUrlKey(req.originalUrl)}`;
    const send = (entry: CachedResponse, status: 'HIT' | 'MISS'): void => {
      res.setHeader('X-Cache', status);
      if (entry.contentType) res.type(entry.contentType);
      res.status(entry.status).send(entry.body);
    };

    // Another request for this key is running the handler (MISS: wait for its response), or
    // has just produced it and is storing it (HIT).
    const running = cache.running<CachedResponse | undefined>(key);
    const shared = running ? await running.flight.catch(() => undefined) : undefined;
    if (shared) {
      send(shared, running?.settled ? 'HIT' : 'MISS');
      return;
    }
    const stored = await cache.get(key);
    if (stored !== undefined) {
      try {
        send(JSON.parse(stored) as CachedResponse, 'HIT');
        return;
      } catch {
        // Not ours: fall through to the handler.
      }
    }
    const late = cache.running<CachedResponse | undefined>(key);
    const lateShared = late ? await late.flight.catch(() => undefined) : undefined;
    if (lateShared) {
      send(lateShared, 'MISS');
      return;
    }

    // Run the handler and capture what it sends; the flight ends when the response does.
    const captured = new Promise<CachedResponse | undefined>((resolve) => {
      const originalSend = res.send.bind(res);
      res.send = (body?: unknown) => {
        // Text bodies (res.json, res.send of a string); Buffers and streams are not cached.
        if (res.statusCode === 200 && typeof body === 'string') {
          const type = res.getHeader('Content-Type');
          resolve({ status: 200, contentType: typeof type === 'string' ? type : undefined, body });
        } else {
          resolve(undefined);
        }
        return originalSend(body);
      };
      res.once('close', () => resolve(undefined));
    });
    res.setHeader('X-Cache', 'MISS');
    void cache.singleFlight(
      key,
      () => captured,
      (entry) => entry && JSON.stringify(entry),
      ttl,
    );
    next();
  };
}
