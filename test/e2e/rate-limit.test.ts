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
 * The rate-limit feature end to end: projects generated with the real CLI and its full
 * test-build, then the built apps driven over HTTP — with `redis` (one budget shared through a
 * real redis-server) and alone (a budget per process, in memory).
 */

interface Answer {
  status: number;
  ratelimit: string | null;
  policy: string | null;
  retryAfter: string | null;
  body: unknown;
}

async function hit(app: Running, path = '/api/hello'): Promise<Answer> {
  const res = await fetch(`${app.url}${path}`);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return {
    status: res.status,
    ratelimit: res.headers.get('ratelimit'),
    policy: res.headers.get('ratelimit-policy'),
    retryAfter: res.headers.get('retry-after'),
    body,
  };
}

/** `r=<remaining>` from a draft-8 RateLimit header. */
function remaining(answer: Answer): number {
  const match = /r=(\d+)/.exec(answer.ratelimit ?? '');
  if (!match?.[1]) throw new Error(`no RateLimit header: ${JSON.stringify(answer)}`);
  return Number(match[1]);
}

const limits = { RATE_LIMIT_MAX: '6', RATE_LIMIT_WINDOW_MS: '60000' };

describe.skipIf(!hasBinary('redis-server'))('rate-limit with redis (real redis-server)', () => {
  let dir: string;

  beforeAll(async () => {
    const project = await generateVerified(tempDir(), 'limited-app', [
      '--features',
      'redis,rate-limit',
    ]);
    dir = project.dir;
    expect(project.result.features).toEqual(expect.arrayContaining(['redis', 'rate-limit']));
  });

  it('ships its dependencies, env vars, README section and registry order', async () => {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies['express-rate-limit']).toMatch(/^\^8\./);
    expect(pkg.dependencies['rate-limit-redis']).toMatch(/^\^6\./);
    const env = await readFile(join(dir, '.env.example'), 'utf8');
    expect(env).toContain('\nRATE_LIMIT_MAX=');
    expect(env).toContain('\nRATE_LIMIT_WINDOW_MS=');
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('<!-- section:rate-limit -->\n## Rate limiting');
    expect(readme).toContain('every instance shares one budget');
    const registry = await readFile(join(dir, 'src/features/index.ts'), 'utf8');
    // Rate limiting runs before the cache: a cached answer still costs budget.
    expect(registry).toContain('[rateLimit, redis]');
  });

  it('two instances on one Redis enforce one shared limit', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, ...limits };
    const a = await startApp(dir, env);
    const b = await startApp(dir, env);
    onTestFailed(() => console.log(a.output(), b.output()));
    for (const app of [a, b]) {
      const deadline = Date.now() + 15_000;
      while (!(await (await fetch(`${app.url}/readyz`)).text()).includes('"redis":"ok"')) {
        if (Date.now() > deadline) throw new Error('redis never became ready');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    // Six requests alternating between the instances spend one budget of six.
    const answers: Answer[] = [];
    for (let i = 0; i < 6; i++) answers.push(await hit(i % 2 === 0 ? a : b));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.map(remaining)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(answers[0]?.policy).toMatch(/q=6; w=60/);

    for (const app of [a, b]) {
      const refused = await hit(app);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error: 'Too Many Requests' });
      const retryAfter = Number(refused.retryAfter);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(remaining(refused)).toBe(0);
      // Health checks are never limited.
      expect((await hit(app, '/healthz')).status).toBe(200);
      expect((await hit(app, '/readyz')).status).toBe(200);
    }

    const { stdout } = await execa('redis-cli', ['-p', String(redis.port), '--raw', 'KEYS', '*']);
    expect(stdout.split('\n')).toContain('limited-app:rl:default:127.0.0.1');

    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    await redis.stop();
  });

  it('fails open to a per-process budget while Redis is down, and shares again once it is back', async () => {
    const port = await freePort();
    const app = await startApp(dir, { REDIS_URL: `redis://127.0.0.1:${port}`, ...limits });
    onTestFailed(() => console.log(app.output()));
    // Redis down at boot: served, counted in memory, never a 5xx, never slow.
    const started = Date.now();
    const answers: Answer[] = [];
    for (let i = 0; i < 7; i++) answers.push(await hit(app));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(app.output()).toContain('counting per process meanwhile');

    const redis = await startRedis(port);
    const deadline = Date.now() + 15_000;
    while (!(await (await fetch(`${app.url}/readyz`)).text()).includes('"redis":"ok"')) {
      if (Date.now() > deadline) throw new Error('redis never became ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The shared (empty) budget in Redis applies again.
    const back = await hit(app);
    expect(back.status).toBe(200);
    expect(remaining(back)).toBe(5);
    const { stdout } = await execa('redis-cli', ['-p', String(port), '--raw', 'KEYS', '*']);
    expect(stdout.split('\n')).toContain('limited-app:rl:default:127.0.0.1');

    // Redis killed: still no 5xx.
    await redis.stop('SIGKILL');
    const during = await hit(app);
    expect([200, 429]).toContain(during.status);

    expect(await app.stop()).toBe(0);
  });
});

describe('rate-limit alone (memory store)', () => {
  let dir: string;

  beforeAll(async () => {
    const project = await generateVerified(tempDir(), 'memory-limited', [
      '--features',
      'rate-limit',
    ]);
    dir = project.dir;
  });

  it('limits each process on its own, with the standard headers', async () => {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies.redis).toBeUndefined();
    const source = await readFile(join(dir, 'src/features/rate-limit.ts'), 'utf8');
    expect(source).not.toContain("from 'rate-limit-redis'");

    const env = { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' };
    const a = await startApp(dir, env);
    const b = await startApp(dir, env);
    for (const app of [a, b]) {
      const answers: Answer[] = [];
      for (let i = 0; i < 4; i++) answers.push(await hit(app));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(answers.slice(0, 3).map(remaining)).toEqual([2, 1, 0]);
      expect(Number(answers[3]?.retryAfter)).toBeGreaterThan(0);
      expect((await hit(app, '/healthz')).status).toBe(200);
    }
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });
});
