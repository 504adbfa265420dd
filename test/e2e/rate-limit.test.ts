import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { hasBinary } from '../helpers/binaries.js';
import { childPids } from '../helpers/load.js';
import { Connection, workersOf } from '../helpers/connections.js';
import { freePort } from '../helpers/ports.js';
import { startApp, startRedis, type Running } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
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
    const project = await generateBuilt(tempDir(), 'limited-app', [
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
    // Redis down at boot: served, counted in memory, never a 5xx. (That no request waits on
    // Redis is shown without a clock by the project's own test and by the SIGSTOP e2e.)
    const answers: Answer[] = [];
    for (let i = 0; i < 7; i++) answers.push(await hit(app));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expect(app.output()).toContain('counting locally meanwhile');

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

describe('rate-limit with cluster, no Redis (the primary counts)', () => {
  let dir: string;

  beforeAll(async () => {
    const project = await generateBuilt(tempDir(), 'memory-limited', [
      '--features',
      'cluster,rate-limit',
    ]);
    dir = project.dir;
  });

  it('ships no Redis store and documents the per-instance budget', async () => {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies.redis).toBeUndefined();
    expect(pkg.dependencies['rate-limit-redis']).toBeUndefined();
    const source = await readFile(join(dir, 'src/features/rate-limit.ts'), 'utf8');
    expect(source).not.toContain('redis-store');
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('**The same limit with any number of workers.**');
  });

  it('an out-of-range RATE_LIMIT_MAX stops the cluster at start: one line, exit 1, no worker', async () => {
    const result = await execa(process.execPath, ['dist/main.js'], {
      cwd: dir,
      env: {
        NODE_ENV: 'production',
        PORT: String(await freePort()),
        WEB_CONCURRENCY: '2',
        RATE_LIMIT_MAX: '0',
      },
      reject: false,
      timeout: 30_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'Invalid configuration: RATE_LIMIT_MAX must be a whole number from 1 to 1000000, got "0"',
    ]);
    expect(result.stdout).not.toContain('worker started');
  });

  // Six keep-alive connections, one request each, then a seventh request on each: under the
  // cluster's round-robin the connections land on different workers (shown with `ss`), and the
  // budget of 6 is still one budget: exactly six 200s, then 429 on every connection.
  for (const workers of [1, 3]) {
    it(`gives a client RATE_LIMIT_MAX requests per window with ${workers} worker(s)`, async () => {
      const app = await startApp(dir, {
        WEB_CONCURRENCY: String(workers),
        LOG_LEVEL: 'info',
        RATE_LIMIT_MAX: '6',
        RATE_LIMIT_WINDOW_MS: '60000',
      });
      onTestFailed(() => console.log(app.output()));
      const listening = (): number => app.output().split('"server listening"').length - 1;
      const deadline = Date.now() + 20_000;
      while (listening() < workers) {
        if (Date.now() > deadline) throw new Error('workers did not start');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const connections = Array.from({ length: 6 }, () => new Connection(app.url));
      try {
        const first = [];
        for (const c of connections) first.push(await c.get('/api/hello'));
        expect(first.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
        const left = first.map((r) => Number(/r=(\d+)/.exec(String(r.headers.ratelimit))?.[1]));
        expect(left).toEqual([5, 4, 3, 2, 1, 0]);

        const served = new Set(await workersOf(app.port, connections));
        const children = await childPids(app.pid);
        for (const pid of served) expect(children).toContain(pid);
        expect(served.size).toBe(Math.min(workers, 6));

        for (const c of connections) expect((await c.get('/api/hello')).status).toBe(429);
        expect((await connections[0]!.get('/healthz')).status).toBe(200);
      } finally {
        for (const c of connections) c.close();
      }
      expect(await app.stop()).toBe(0);
    });
  }
});
