import { createServer } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import type { Feature } from '../src/feature.js';
import queue from '../src/features/queue.js';
import { InProcessJobQueue } from '../src/features/queue/in-process.js';
import { readQueueSettings } from '../src/features/queue/settings.js';
import { createConsoleLogger } from '../src/logger.js';
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

const settings = (env: Record<string, string> = {}) =>
  readQueueSettings({ QUEUE_BACKOFF_MS: '1', ...env }, loadConfig({ NODE_ENV: 'test' }));
const logger = createConsoleLogger('error');
const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
};

/** A route of this test's own that enqueues through ctx.services.queue. */
const enqueueRoute: Feature = {
  name: 'enqueue-route',
  setup(app: Express, ctx) {
    app.post('/enqueue', async (_req, res) => {
      if (!ctx.services.queue) throw new Error('no queue');
      res.json({ id: await ctx.services.queue.enqueue('report', { text: 'x', rounds: 1 }) });
    });
  },
};

describe('queue feature', () => {
  afterAll(async () => {
    await queue.shutdown?.();
  });

  it('requires REDIS_URL in production, with one line naming it', () => {
    expect(() => readQueueSettings({}, loadConfig({ NODE_ENV: 'production' }))).toThrow(
      ConfigError,
    );
    expect(() => readQueueSettings({}, loadConfig({ NODE_ENV: 'production' }))).toThrow(
      /REDIS_URL/,
    );
    expect(() => settings({ QUEUE_CONCURRENCY: '0' })).toThrow(/QUEUE_CONCURRENCY/);
  });

  it('retries a failing job with backoff and keeps it as failed after the last attempt', async () => {
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('always fails');
    };
    const local = new InProcessJobQueue(settings({ QUEUE_ATTEMPTS: '3' }), { failing }, logger);
    const id = await local.enqueue('failing', {});
    await until(async () => (await local.status(id))?.state === 'failed');
    expect(await local.status(id)).toMatchObject({
      state: 'failed',
      error: 'always fails',
      attemptsMade: 3,
    });
    expect(calls).toBe(3);
  });

  it('de-duplicates by job id: the same id runs once, also when sent again after it finished', async () => {
    let runs = 0;
    const count = async () => ++runs;
    const local = new InProcessJobQueue(settings(), { count }, logger);
    expect(await local.enqueue('count', {}, { jobId: 'once' })).toBe('once');
    expect(await local.enqueue('count', {}, { jobId: 'once' })).toBe('once');
    await until(async () => (await local.status('once'))?.state === 'completed');
    await local.enqueue('count', {}, { jobId: 'once' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toBe(1);
    expect(await local.status('once')).toMatchObject({ state: 'completed', result: 1 });
  });

  it('keeps only the last QUEUE_KEEP_COMPLETED finished jobs', async () => {
    const ok = async () => 'done';
    const local = new InProcessJobQueue(settings({ QUEUE_KEEP_COMPLETED: '2' }), { ok }, logger);
    const [first, second, third] = [
      await local.enqueue('ok', {}),
      await local.enqueue('ok', {}),
      await local.enqueue('ok', {}),
    ];
    await until(async () => (await local.status(third))?.state === 'completed');
    expect(await local.status(first)).toBeUndefined();
    expect(await local.status(second)).toMatchObject({ state: 'completed', result: 'done' });
  });

  it('fails fast (503) when Redis is unreachable instead of waiting for it', async () => {
    const ctx = testContext({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }, [
      queue,
      enqueueRoute,
    ]);
    const app = await createApp(ctx, [queue, enqueueRoute]);
    const started = Date.now();
    const res = await request(app).post('/enqueue').expect(503);
    expect(res.headers['retry-after']).toBe('5');
    // QUEUE_ENQUEUE_TIMEOUT_MS (1 s) at most; a generous bound for a busy machine.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await queue.readiness?.()).toBe('degraded');
  });
});
