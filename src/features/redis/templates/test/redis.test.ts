import { createServer } from 'node:net';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import type { Feature } from '../src/feature.js';
import redis, {
  cacheResponse,
  cached,
  cachedWithStatus,
  clearMemoryCache,
  jitteredTtl,
  normalizedUrlKey,
} from '../src/features/redis.js';
import { testContext } from './helpers.js';

/** A loopback port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const savedUrl = process.env.REDIS_URL;

beforeEach(async () => {
  // These tests need no Redis: without REDIS_URL the in-process LRU is the cache.
  await redis.shutdown?.();
  delete process.env.REDIS_URL;
  clearMemoryCache();
});

afterEach(async () => {
  await redis.shutdown?.();
  if (savedUrl === undefined) delete process.env.REDIS_URL;
  else process.env.REDIS_URL = savedUrl;
});

describe('redis cache (in-process LRU without REDIS_URL)', () => {
  it('serves the example route from the cache after the first request', async () => {
    const app = await createApp(testContext(), [redis]);
    const first = await request(app).get('/api/slow?n=7').expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await request(app).get('/api/slow?n=7').expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);
    expect(second.headers['content-type']).toMatch(/application\/json/);
    const other = await request(app).get('/api/slow?n=8').expect(200);
    expect(other.headers['x-cache']).toBe('MISS');
  });

  it('keys responses by normalized URL', () => {
    expect(normalizedUrlKey('/a?b=2&a=1')).toBe(normalizedUrlKey('/a?a=1&b=2'));
    expect(normalizedUrlKey('/a?a=1')).not.toBe(normalizedUrlKey('/a?a=2'));
  });

  it('spreads expiries with up to 10% TTL jitter', () => {
    const ttls = Array.from({ length: 200 }, () => jitteredTtl(100));
    expect(Math.min(...ttls)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...ttls)).toBeLessThanOrEqual(110);
    expect(new Set(ttls).size).toBeGreaterThan(1);
  });

  it('runs the loader once for a burst of misses on one key', async () => {
    let calls = 0;
    const load = async (): Promise<{ answer: number }> => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { answer: 42 };
    };
    const values = await Promise.all(Array.from({ length: 50 }, () => cached('burst', 60, load)));
    expect(calls).toBe(1);
    expect(values.every((v) => v.answer === 42)).toBe(true);
    const again = await cachedWithStatus('burst', 60, load);
    expect(again).toEqual({ value: { answer: 42 }, hit: true });
    expect(calls).toBe(1);
  });

  it('does not cache a failed load', async () => {
    let calls = 0;
    const failing = async (): Promise<string> => {
      calls += 1;
      throw new Error('origin down');
    };
    await expect(cached('fails', 60, failing)).rejects.toThrow('origin down');
    await expect(cached('fails', 60, failing)).rejects.toThrow('origin down');
    expect(calls).toBe(2);
  });

  it('runs a cached GET handler once for concurrent requests, and caches only 200s', async () => {
    let runs = 0;
    const routes: Feature = {
      name: 'routes',
      setup(app) {
        app.get('/counted', cacheResponse(60), async (_req, res) => {
          runs += 1;
          await new Promise((resolve) => setTimeout(resolve, 50));
          res.json({ runs });
        });
        app.get('/missing', cacheResponse(60), (_req, res) => {
          runs += 1;
          res.status(404).json({ error: 'nope' });
        });
      },
    };
    const app = await createApp(testContext(), [redis, routes]);
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => request(app).get('/counted').expect(200)),
    );
    expect(runs).toBe(1);
    expect(new Set(burst.map((r) => JSON.stringify(r.body))).size).toBe(1);

    runs = 0;
    await request(app).get('/missing').expect(404);
    await request(app).get('/missing').expect(404);
    expect(runs).toBe(2);
  });

  it('reports the in-process cache as ready', async () => {
    const app = await createApp(testContext(), [redis]);
    const res = await request(app).get('/readyz').expect(200);
    expect(res.body.checks.redis).toBe('ok');
  });
});

describe('redis cache with Redis unreachable', () => {
  it('serves from the origin without delay and reports the cache as degraded', async () => {
    process.env.REDIS_URL = `redis://127.0.0.1:${await closedPort()}`;
    const app = await createApp(testContext(), [redis]);
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      const res = await request(app).get('/api/slow?n=down').expect(200);
      expect(res.headers['x-cache']).toBe('MISS');
      // The handler sleeps 300 ms; the cache must not add its own waiting on top (bound is loose).
      expect(Date.now() - started).toBeLessThan(2000);
    }
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'degraded', checks: { redis: 'degraded' } });
  });
});
