import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { hasBinary } from '../helpers/binaries.js';
import { freePort } from '../helpers/ports.js';
import { startApp, startRedis, type Running } from '../helpers/processes.js';
import { generateVerified } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The redis feature end to end: a project generated with the real CLI and its full test-build
 * (install, build, lint, its own tests without Redis, boot without REDIS_URL), then the built
 * app driven over HTTP against a real redis-server on a loopback port.
 */

interface SlowBody {
  n: string;
  computedAt: string;
  computations: number;
}

async function get(
  url: string,
): Promise<{ status: number; cache: string | null; body: unknown; ms: number }> {
  const started = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return {
    status: res.status,
    cache: res.headers.get('x-cache'),
    body,
    ms: performance.now() - started,
  };
}

async function readyz(app: Running): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${app.url}/readyz`);
  return { status: res.status, body: await res.json() };
}

/** Polls until `check` passes or the deadline passes (then fails with the last value). */
async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, ms = 15_000) {
  const deadline = Date.now() + ms;
  let last = await read();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await read();
  }
  return last;
}

async function redisKeys(port: number): Promise<string[]> {
  const { stdout } = await execa('redis-cli', ['-p', String(port), '--raw', 'KEYS', '*']);
  return stdout.split('\n').filter(Boolean);
}

describe.skipIf(!hasBinary('redis-server'))('redis feature (real redis-server)', () => {
  let dir: string;

  beforeAll(async () => {
    const project = await generateVerified(tempDir(), 'cache-app', ['--features', 'redis']);
    dir = project.dir;
    expect(project.result.features).toContain('redis');
  });

  it('ships its dependencies, env vars and README section', async () => {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies.redis).toMatch(/^\^6\./);
    expect(pkg.dependencies['lru-cache']).toBeDefined();
    const env = await readFile(join(dir, '.env.example'), 'utf8');
    for (const name of ['REDIS_URL', 'REDIS_KEY_PREFIX', 'REDIS_COMMAND_TIMEOUT_MS'])
      expect(env).toContain(`\n${name}=`);
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('<!-- section:redis -->\n## Redis cache');
    const registry = await readFile(join(dir, 'src/features/index.ts'), 'utf8');
    expect(registry).toContain('redis');
  });

  it('runs without Redis on an in-process LRU and says so once', async () => {
    const app = await startApp(dir, { LOG_LEVEL: 'info' });
    const first = await get(`${app.url}/api/slow?n=lru`);
    const second = await get(`${app.url}/api/slow?n=lru`);
    expect([first.status, first.cache, second.status, second.cache]).toEqual([
      200,
      'MISS',
      200,
      'HIT',
    ]);
    expect(second.body).toEqual(first.body);
    expect((await readyz(app)).body).toEqual({ status: 'ok', checks: { redis: 'ok' } });
    expect(app.output().match(/REDIS_URL is not set/g)).toHaveLength(1);
    expect(await app.stop()).toBe(0);
  });

  it('caches in Redis: miss then hit, shared by two instances, one loader run for 50 misses', async () => {
    const redis = await startRedis();
    const a = await startApp(dir, { REDIS_URL: redis.url });
    const b = await startApp(dir, { REDIS_URL: redis.url });
    await eventually(
      () => readyz(a),
      (r) => r.status === 200 && JSON.stringify(r.body).includes('"ok"'),
    );

    const miss = await get(`${a.url}/api/slow?n=1&x=y`);
    expect(miss.status).toBe(200);
    expect(miss.cache).toBe('MISS');
    // Same URL with the query in another order: the same key, served by the other instance.
    const hit = await get(`${b.url}/api/slow?x=y&n=1`);
    expect(hit.cache).toBe('HIT');
    expect(hit.body).toEqual(miss.body);
    expect(await redisKeys(redis.port)).toContain('cache-app:http:/api/slow?n=1&x=y');

    const burst = await Promise.all(
      Array.from({ length: 50 }, () => get(`${a.url}/api/slow?n=burst`)),
    );
    expect(burst.every((r) => r.status === 200)).toBe(true);
    const bodies = new Set(burst.map((r) => JSON.stringify(r.body)));
    expect(bodies.size).toBe(1);
    const { computations } = (burst[0]?.body ?? {}) as SlowBody;
    // The handler counts its runs in this process: one more run for a new key means the burst
    // of 50 misses ran it exactly once.
    const next = await get(`${a.url}/api/slow?n=after-burst`);
    expect((next.body as SlowBody).computations).toBe(computations + 1);
    expect((await get(`${a.url}/api/slow?n=burst`)).cache).toBe('HIT');

    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    await redis.stop();
  });

  it('keeps serving when Redis dies under load, degrades /readyz, and caches again once Redis is back', async () => {
    let redis = await startRedis();
    const app = await startApp(dir, { REDIS_URL: redis.url });
    await eventually(
      () => readyz(app),
      (r) => JSON.stringify(r.body).includes('"redis":"ok"'),
    );
    expect((await get(`${app.url}/api/slow?n=warm`)).cache).toBe('MISS');
    expect((await get(`${app.url}/api/slow?n=warm`)).cache).toBe('HIT');

    // Load: 8 concurrent clients for ~3 s over a few cached URLs; Redis is killed after 0.8 s.
    const results: { status: number; ms: number }[] = [];
    const until = Date.now() + 3000;
    const client = async (id: number): Promise<void> => {
      for (let i = 0; Date.now() < until && i < 500; i++) {
        const r = await get(`${app.url}/api/slow?n=load-${(id + i) % 4}`).catch(() => ({
          status: 0,
          ms: 0,
        }));
        results.push({ status: r.status, ms: r.ms });
      }
    };
    const killer = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 800));
      await redis.stop('SIGKILL');
    })();
    await Promise.all([...Array.from({ length: 8 }, (_, id) => client(id)), killer]);

    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    // The handler itself takes 300 ms; a hanging cache would add seconds. Generous bound.
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(2500);

    const degraded = await readyz(app);
    expect(degraded).toEqual({
      status: 200,
      body: { status: 'degraded', checks: { redis: 'degraded' } },
    });
    const down = await get(`${app.url}/api/slow?n=while-down`);
    expect([down.status, down.cache]).toEqual([200, 'MISS']);
    expect(down.ms).toBeLessThan(2000);

    // Same port, fresh (empty) Redis: the client reconnects by itself.
    redis = await startRedis(redis.port);
    await eventually(
      () => readyz(app),
      (r) => JSON.stringify(r.body).includes('"redis":"ok"'),
    );
    expect((await get(`${app.url}/api/slow?n=after`)).cache).toBe('MISS');
    expect((await get(`${app.url}/api/slow?n=after`)).cache).toBe('HIT');
    expect(await redisKeys(redis.port)).toContain('cache-app:http:/api/slow?n=after');

    expect(await app.stop()).toBe(0);
    await redis.stop();
  });

  it('bounds the wait on a hung Redis (process stopped, connection open) by the command timeout', async () => {
    const redis = await startRedis();
    const app = await startApp(dir, { REDIS_URL: redis.url });
    onTestFailed(() => console.log(app.output()));
    await eventually(
      () => readyz(app),
      (r) => JSON.stringify(r.body).includes('"redis":"ok"'),
    );
    expect((await get(`${app.url}/api/slow?n=hung`)).cache).toBe('MISS');

    process.kill(redis.pid, 'SIGSTOP');
    try {
      // node-redis's own timeout does not cover a command already sent: without the app's
      // bound these requests would wait for Redis forever.
      const answers = await Promise.all(
        ['hung', 'hung-2', 'hung-3'].map((n) => get(`${app.url}/api/slow?n=${n}`)),
      );
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(Math.max(...answers.map((r) => r.ms))).toBeLessThan(2500);
      const started = Date.now();
      expect((await readyz(app)).body).toEqual({
        status: 'degraded',
        checks: { redis: 'degraded' },
      });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    await eventually(
      () => readyz(app),
      (r) => JSON.stringify(r.body).includes('"redis":"ok"'),
    );
    expect(await app.stop()).toBe(0);
    await redis.stop();
  });

  it('starts while Redis is down and starts caching when it comes up', async () => {
    const port = await freePort();
    const app = await startApp(dir, { REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'debug' });
    onTestFailed(() => console.log(app.output()));
    await get(`${app.url}/api/slow?n=warm-up`); // the first request of a process is slower
    const first = await get(`${app.url}/api/slow?n=boot`);
    expect([first.status, first.cache]).toEqual([200, 'MISS']);
    expect(first.ms).toBeLessThan(2000);
    expect((await readyz(app)).body).toEqual({ status: 'degraded', checks: { redis: 'degraded' } });

    const redis = await startRedis(port);
    await eventually(
      () => readyz(app),
      (r) => JSON.stringify(r.body).includes('"redis":"ok"'),
    );
    expect((await get(`${app.url}/api/slow?n=boot`)).cache).toBe('MISS');
    expect((await get(`${app.url}/api/slow?n=boot`)).cache).toBe('HIT');
    expect(await app.stop()).toBe(0);
    await redis.stop();
  });
});
