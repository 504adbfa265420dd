import { createServer } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import type { AppContext, Feature } from '../src/feature.js';
import redis from '../src/features/redis.js';
import { Cache, cached, jitteredTtl, memoryStore } from '../src/features/redis/cache.js';
import { cacheResponse, normalizedUrlKey } from '../src/features/redis/response-cache.js';
import { startFakeRedis, type FakeRedis } from './fake-redis.js';
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

/** The context for these tests: only the given variables, never the machine's REDIS_URL. */
function context(env: Record<string, string> = {}): AppContext {
  return testContext(env, [redis]);
}

/**
 * A route cached as the README shows: `GET /cached?n=…`, keyed on `n` only (so other query
 * values share the key), counting how often the handler ran.
 */
function cachedRoute(): Feature & { runs: number } {
  const route = {
    name: 'cached-route',
    runs: 0,
    setup(app: Express, ctx: AppContext) {
      const byN = cacheResponse(ctx.services.cache, { key: (req) => `n:${Number(req.query.n)}` });
      app.get('/cached', byN, (req, res) => {
        route.runs += 1;
        res.json({ n: Number(req.query.n), run: route.runs });
      });
    },
  };
  return route;
}

const fakes: FakeRedis[] = [];

afterEach(async () => {
  await redis.shutdown?.();
  for (const fake of fakes.splice(0)) {
    fake.resume();
    await fake.close();
  }
});

describe('redis settings', () => {
  const read = (env: Record<string, string>) =>
    redis.readSettings?.(env, loadConfig({ NODE_ENV: 'test' }));

  it('reads the defaults, and rejects a REDIS_URL that is not a redis URL', () => {
    expect(read({})).toMatchObject({ target: undefined, commandTimeoutMs: 250 });
    expect(read({ REDIS_URL: 'redis://cache:6379' })?.target).toEqual({
      mode: 'single',
      url: 'redis://cache:6379',
    });
    expect(() => read({ REDIS_URL: 'notaurl' })).toThrow(ConfigError);
    expect(() => read({ REDIS_URL: 'http://cache:6379' })).toThrow(ConfigError);
    expect(() => read({ REDIS_COMMAND_TIMEOUT_MS: '0' })).toThrow(ConfigError);
  });

  it('reads a Cluster from host:port or URLs, with the password from REDIS_PASSWORD or the URLs', () => {
    expect(read({ REDIS_CLUSTER_NODES: 'a:7000, b:7001', REDIS_PASSWORD: 's3' })?.target).toEqual({
      mode: 'cluster',
      nodes: ['redis://a:7000', 'redis://b:7001'],
      password: 's3',
      username: undefined,
    });
    const fromUrl = read({ REDIS_CLUSTER_NODES: 'redis://app:p%40ss@a:7000,b:7001' })?.target;
    expect(fromUrl).toMatchObject({ mode: 'cluster', password: 'p@ss', username: 'app' });
    expect(() => read({ REDIS_CLUSTER_NODES: 'a' })).toThrow(ConfigError);
    // The message never shows credentials.
    expect(() => read({ REDIS_CLUSTER_NODES: 'redis://u:secret@a' })).toThrow(/^(?!.*secret)/);
    expect(() => read({ REDIS_CLUSTER_NODES: 'http://a:7000' })).toThrow(ConfigError);
  });

  it('reads Sentinel, which needs the master name', () => {
    const env = { REDIS_SENTINELS: 's1:26379,s2:26380', REDIS_SENTINEL_MASTER: 'mymaster' };
    expect(read(env)?.target).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      masterName: 'mymaster',
      password: undefined,
    });
    expect(() => read({ REDIS_SENTINELS: 's1:26379' })).toThrow(/REDIS_SENTINEL_MASTER/);
  });

  it('refuses more than one way to reach Redis', () => {
    const both = { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' };
    expect(() => read(both)).toThrow(/set only one of REDIS_URL, REDIS_CLUSTER_NODES/);
    expect(() => read({ REDIS_CLUSTER_NODES: 'b:7000', REDIS_SENTINELS: 'c:26379' })).toThrow(
      ConfigError,
    );
  });
});

describe('redis cache (in-process LRU without REDIS_URL)', () => {
  it('serves a cached route from the cache after the first request, keyed as told', async () => {
    const ctx = context();
    const route = cachedRoute();
    const app = await createApp(ctx, [redis, route]);
    expect(ctx.services.cache).toBeDefined();
    const first = await request(app).get('/cached?n=7').expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await request(app).get('/cached?n=7&other=1').expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);
    expect(second.headers['content-type']).toMatch(/application\/json/);
    const other = await request(app).get('/cached?n=8').expect(200);
    expect(other.headers['x-cache']).toBe('MISS');
    expect(route.runs).toBe(2);
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
    const cache = new Cache(memoryStore(100), 60);
    let calls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const load = async (): Promise<{ answer: number }> => {
      calls += 1;
      await gate;
      return { answer: 42 };
    };
    const burst = Promise.all(Array.from({ length: 50 }, () => cached(cache, 'burst', 60, load)));
    release();
    const values = await burst;
    expect(calls).toBe(1);
    expect(values.every((v) => v.answer === 42)).toBe(true);
    expect(await cache.wrap('burst', 60, load)).toEqual({ value: { answer: 42 }, hit: true });
    expect(calls).toBe(1);
  });

  it('calls the loader directly without a cache, and never caches a failed load', async () => {
    expect(await cached(undefined, 'k', 60, async () => 'direct')).toBe('direct');
    const cache = new Cache(memoryStore(100), 60);
    let calls = 0;
    const failing = async (): Promise<string> => {
      calls += 1;
      throw new Error('origin down');
    };
    await expect(cached(cache, 'fails', 60, failing)).rejects.toThrow('origin down');
    await expect(cached(cache, 'fails', 60, failing)).rejects.toThrow('origin down');
    expect(calls).toBe(2);
  });

  it('runs a cached GET handler once for concurrent requests, and caches only 200s', async () => {
    let runs = 0;
    const routes: Feature = {
      name: 'routes',
      setup(app, ctx) {
        app.get('/counted', cacheResponse(ctx.services.cache), async (_req, res) => {
          runs += 1;
          await new Promise((resolve) => setTimeout(resolve, 50));
          res.json({ runs });
        });
        app.get('/missing', cacheResponse(ctx.services.cache), (_req, res) => {
          runs += 1;
          res.status(404).json({ error: 'nope' });
        });
      },
    };
    const app = await createApp(context(), [redis, routes]);
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
    const app = await createApp(context(), [redis]);
    const res = await request(app).get('/readyz').expect(200);
    expect(res.body.checks.redis).toBe('ok');
  });
});

describe('redis cache with Redis in trouble', () => {
  it('serves from the origin at once while Redis is unreachable, and reports degraded', async () => {
    // A command timeout far above this test's own timeout: waiting on Redis would fail the test.
    const ctx = context({
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      REDIS_COMMAND_TIMEOUT_MS: '60000',
    });
    const app = await createApp(ctx, [redis, cachedRoute()]);
    for (let i = 0; i < 2; i++) {
      const res = await request(app).get('/cached?n=2').expect(200);
      expect(res.headers['x-cache']).toBe('MISS');
    }
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'degraded', checks: { redis: 'degraded' } });
  });

  it('serves from the origin at once while no Cluster node is reachable, and reports degraded', async () => {
    const nodes = `127.0.0.1:${await closedPort()},127.0.0.1:${await closedPort()}`;
    const ctx = context({ REDIS_CLUSTER_NODES: nodes, REDIS_COMMAND_TIMEOUT_MS: '60000' });
    const app = await createApp(ctx, [redis, cachedRoute()]);
    expect(ctx.services.redis?.mode).toBe('cluster');
    for (let i = 0; i < 2; i++) {
      const res = await request(app).get('/cached?n=2').expect(200);
      expect(res.headers['x-cache']).toBe('MISS');
    }
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'degraded', checks: { redis: 'degraded' } });
  });

  it('stops sending commands to a hung Redis (circuit open) and uses it again once it answers', async () => {
    const fake = await startFakeRedis();
    fakes.push(fake);
    const ctx = context({ REDIS_URL: fake.url, REDIS_COMMAND_TIMEOUT_MS: '100' });
    const app = await createApp(ctx, [redis, cachedRoute()]);
    const connection = ctx.services.redis;
    await vi.waitFor(() => expect(connection?.client.isReady).toBe(true));
    expect((await request(app).get('/cached?n=1')).headers['x-cache']).toBe('MISS');

    fake.hang();
    // Each of these waits for one command timeout; the third failure opens the breaker.
    for (let i = 0; i < 3; i++) await request(app).get('/cached?n=2').expect(200);
    expect(connection?.breaker.state).toBe('open');
    // Open: requests are served without a single command reaching Redis (the one waiting probe
    // is the only command sent meanwhile).
    const before = fake.received.length;
    for (let i = 0; i < 5; i++) await request(app).get('/cached?n=3').expect(200);
    expect(fake.received.slice(before).filter((c) => c !== 'PING')).toEqual([]);
    expect((await request(app).get('/readyz')).body.checks.redis).toBe('degraded');

    fake.resume();
    await vi.waitFor(() => expect(connection?.breaker.state).toBe('closed'));
    const gets = fake.received.filter((c) => c === 'GET').length;
    await request(app).get('/cached?n=4').expect(200);
    expect(fake.received.filter((c) => c === 'GET').length).toBe(gets + 1);
  });
});
