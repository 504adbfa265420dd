import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBinary } from '../helpers/binaries.js';
import { spawnTracked, startApp, startRedis, type Running } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The queue feature end to end: one project generated with the real CLI and its full test-build,
 * then the built app (`node dist/main.js`) and worker processes (`node dist/worker.js`) against a
 * real redis-server. Workers log each job they start and complete (LOG_LEVEL=debug), which is how
 * the tests tell which process ran a job, and how often. Locks last 2 s here (30 s by default), so
 * a job of a killed worker is taken over within seconds.
 */

const LOCK_MS = 2000;
/** A job of about a second or more on this machine: long enough to signal its worker mid-job. */
const LONG_ROUNDS = 1_500_000;
const TOKEN = 'queue-e2e-metrics-token';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` passes or `ms` passes (then fails with the last value). */
async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last = await read();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(last)}`);
    await sleep(100);
    last = await read();
  }
  return last;
}

interface Worker {
  pid: number;
  output(): string;
  exited: Promise<number | undefined>;
  kill(signal: NodeJS.Signals): void;
}

/** The ids of the jobs a worker logged with `message` ("job started", "job completed"). */
function jobIds(worker: Worker, message: string): string[] {
  const ids: string[] = [];
  for (const line of worker.output().split('\n')) {
    if (!line.includes(`"message":"${message}"`)) continue;
    const { id } = JSON.parse(line) as { id: string };
    ids.push(id);
  }
  return ids;
}

describe.skipIf(!hasBinary('redis-server'))('queue feature (real redis-server)', () => {
  let dir: string;
  let redis: Running;
  const apps: Running[] = [];
  const workers: Worker[] = [];

  const env = (queue: string): Record<string, string> => ({
    NODE_ENV: 'production',
    REDIS_URL: redis.url,
    QUEUE_NAME: queue,
    QUEUE_LOCK_DURATION_MS: String(LOCK_MS),
    QUEUE_KEEP_COMPLETED: '100000',
    QUEUE_IN_PROCESS: 'false',
  });

  function startWorker(queue: string, extra: Record<string, string> = {}): Worker {
    const { child, output } = spawnTracked(process.execPath, ['dist/worker.js'], {
      cwd: dir,
      env: { ...env(queue), LOG_LEVEL: 'debug', QUEUE_CONCURRENCY: '4', ...extra },
    });
    const worker: Worker = {
      pid: child.pid!,
      output,
      exited: child.then((r) => r.exitCode),
      kill: (signal) => child.kill(signal),
    };
    workers.push(worker);
    return worker;
  }

  async function startQueueApp(queue: string): Promise<Running> {
    const app = await startApp(dir, { ...env(queue), METRICS_TOKEN: TOKEN });
    apps.push(app);
    return app;
  }

  async function post(app: Running, body: unknown, key?: string) {
    const res = await fetch(`${app.url}/api/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      location: res.headers.get('location'),
      body: (await res.json()) as { id: string },
    };
  }

  async function report(app: Running, id: string) {
    const res = await fetch(`${app.url}/api/reports/${id}`);
    return (await res.json()) as { state: string; result?: { pid: number } };
  }

  const completedBy = (app: Running, id: string) =>
    eventually(
      () => report(app, id),
      (r) => r.state === 'completed',
    ).then((r) => r.result?.pid);

  /** Waits until `worker` logged that it started job `id`. */
  const started = (worker: Worker, id: string) =>
    eventually(
      () => Promise.resolve(jobIds(worker, 'job started')),
      (ids) => ids.includes(id),
    );

  beforeAll(async () => {
    const project = await generateBuilt(tempDir(), 'queue-app', [
      '--features',
      'redis,queue,metrics',
    ]);
    dir = project.dir;
    expect(project.result.features).toEqual(['redis', 'queue', 'metrics']);
    redis = await startRedis();
  });

  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    for (const app of apps) await app.stop('SIGKILL').catch(() => undefined);
    await redis?.stop('SIGKILL').catch(() => undefined);
  });

  it('refuses production without REDIS_URL, and a worker without it, with one line and exit 1', async () => {
    for (const script of ['dist/main.js', 'dist/worker.js']) {
      const result = await execa(process.execPath, [script], {
        cwd: dir,
        env: { NODE_ENV: 'production', PORT: '0' },
        extendEnv: false,
        reject: false,
        timeout: 30_000,
      });
      expect(result.exitCode, script).toBe(1);
      expect(result.stderr.trim().split('\n'), script).toHaveLength(1);
      expect(result.stderr, script).toMatch(/^Invalid configuration: .*REDIS_URL/);
    }
  });

  it('runs jobs in the app process without REDIS_URL in development, and says so once', async () => {
    const app = await startApp(dir, { NODE_ENV: 'development', LOG_LEVEL: 'info' });
    apps.push(app);
    const first = await post(app, { text: 'local', rounds: 10 });
    const second = await post(app, { text: 'local', rounds: 20 });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(await completedBy(app, first.body.id)).toBe(app.pid);
    expect(await completedBy(app, second.body.id)).toBe(app.pid);
    expect(app.output().match(/jobs run in this process/g)).toHaveLength(1);
  });

  it('runs 1,000 jobs on two workers, each exactly once, and reports the queue in /metrics', async () => {
    const app = await startQueueApp('thousand');
    const a = startWorker('thousand');
    const b = startWorker('thousand');
    const ids: string[] = [];
    // 20 clients enqueue 50 jobs each.
    await Promise.all(
      Array.from({ length: 20 }, async (_, client) => {
        for (let i = 0; i < 50; i++) {
          const res = await post(app, { text: `job ${client}-${i}`, rounds: 50 });
          expect(res.status).toBe(202);
          ids.push(res.body.id);
        }
      }),
    );
    expect(new Set(ids).size).toBe(1000);
    const completed = () => jobIds(a, 'job completed').length + jobIds(b, 'job completed').length;
    await eventually(
      () => Promise.resolve(completed()),
      (n) => n >= 1000,
      120_000,
    );
    await sleep(500); // a duplicate would show up now
    const runs = [...jobIds(a, 'job started'), ...jobIds(b, 'job started')];
    expect(runs.length).toBe(1000);
    expect(new Set(runs)).toEqual(new Set(ids));
    // Both workers took part.
    expect(jobIds(a, 'job started').length).toBeGreaterThan(0);
    expect(jobIds(b, 'job started').length).toBeGreaterThan(0);
    expect([a.pid, b.pid]).toContain(await completedBy(app, ids[0]!));

    const metrics = await fetch(`${app.url}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    }).then((r) => r.text());
    expect(metrics).toContain('queue_jobs{state="completed"} 1000');
    expect(metrics).toContain('queue_jobs{state="waiting"} 0');
  });

  it('de-duplicates by Idempotency-Key across requests', async () => {
    const app = await startQueueApp('dedup');
    const worker = startWorker('dedup');
    const first = await post(app, { text: 'once', rounds: 10 }, 'order-42');
    const second = await post(app, { text: 'once', rounds: 10 }, 'order-42');
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.id).toBe(first.body.id);
    expect(first.location).toBe(`/api/reports/${first.body.id}`);
    expect(await completedBy(app, first.body.id)).toBe(worker.pid);
    await post(app, { text: 'once', rounds: 10 }, 'order-42');
    await sleep(300);
    expect(jobIds(worker, 'job started')).toEqual([first.body.id]);
  });

  it('SIGTERM mid-job: the worker finishes its job, takes no new one, exits 0; none is lost', async () => {
    const app = await startQueueApp('sigterm');
    const a = startWorker('sigterm', { QUEUE_CONCURRENCY: '1' });
    const jobs = [];
    // Only the first job must be long (it is the one under way at SIGTERM); the others wait.
    for (let i = 0; i < 3; i++) {
      const rounds = i === 0 ? LONG_ROUNDS : 10;
      jobs.push((await post(app, { text: `t${i}`, rounds })).body.id);
    }
    await started(a, jobs[0]!);
    a.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(jobIds(a, 'job completed')).toEqual([jobs[0]]);
    expect((await report(app, jobs[0]!)).result?.pid).toBe(a.pid);
    // The other two waited in Redis for the next worker.
    const b = startWorker('sigterm');
    for (const id of jobs.slice(1)) expect(await completedBy(app, id)).toBe(b.pid);
  });

  it('kill -9 mid-job: the other worker completes the stalled job', async () => {
    const app = await startQueueApp('kill9');
    const a = startWorker('kill9', { QUEUE_CONCURRENCY: '1' });
    const { id } = (await post(app, { text: 'k', rounds: LONG_ROUNDS })).body;
    await started(a, id);
    const b = startWorker('kill9');
    a.kill('SIGKILL');
    await a.exited;
    // After the lock expires (2 s) a stalled-job check (every 2 s) puts it back: seconds.
    expect(await completedBy(app, id)).toBe(b.pid);
    expect(jobIds(b, 'job started')).toEqual([id]);
  });

  it('Redis restarted: the same workers and app resume without a restart', async () => {
    const app = await startQueueApp('restart');
    const worker = startWorker('restart');
    const before = (await post(app, { text: 'before', rounds: 10 })).body.id;
    expect(await completedBy(app, before)).toBe(worker.pid);

    const port = redis.port;
    await redis.stop('SIGTERM');
    await sleep(1000);
    redis = await startRedis(port);
    // The app reconnects on its own; until then a POST is a fast 503.
    const after = await eventually(
      () => post(app, { text: 'after', rounds: 10 }),
      (r) => r.status === 202,
    );
    expect(await completedBy(app, after.body.id)).toBe(worker.pid);
    expect(worker.output()).not.toContain('"level":"error"');
  });

  it('Redis hung (SIGSTOP): POST /api/reports fails fast with a 503, and works again after SIGCONT', async () => {
    const app = await startQueueApp('stopped');
    startWorker('stopped');
    expect((await post(app, { text: 'ok', rounds: 1 })).status).toBe(202);
    process.kill(redis.pid, 'SIGSTOP');
    try {
      const began = performance.now();
      const res = await post(app, { text: 'hung', rounds: 1 });
      const ms = performance.now() - began;
      expect(res.status).toBe(503);
      // QUEUE_ENQUEUE_TIMEOUT_MS is 1 s; 3 s leaves room for a busy CI machine, and is still far
      // below a hang (without the timeout the request waits for Redis forever).
      expect(ms).toBeLessThan(3000);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    const back = await eventually(
      () => post(app, { text: 'back', rounds: 1 }),
      (r) => r.status === 202,
    );
    expect((await completedBy(app, back.body.id)) ?? 0).toBeGreaterThan(0);
  });
});
