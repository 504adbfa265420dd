import express, { type Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import type { Feature } from '../src/feature.js';
import { features } from '../src/features/index.js';
import { reportRoutes } from '../src/routes/reports.js';
import { testContext } from './helpers.js';

/**
 * Mounts the routes itself, so that the test does not depend on src/routes/examples.ts mounting
 * them (after `add queue` it does not until you add `router.use(reportRoutes(ctx))` there).
 */
const mountReports: Feature = {
  name: 'reports-under-test',
  setup(app, ctx) {
    app.use(express.json({ limit: ctx.config.bodyLimit }), reportRoutes(ctx));
  },
};

/**
 * The /api/reports example (src/routes/reports.ts), with jobs run in process (no REDIS_URL).
 * Skipped once the queue feature is removed (the routes then answer 503).
 */
describe.skipIf(!features.some((f) => f.name === 'queue'))('/api/reports', () => {
  let app: Express;
  beforeAll(async () => {
    app = await createApp(testContext(), [...features, mountReports]);
  });
  afterAll(async () => {
    for (const feature of features) await feature.shutdown?.();
  });

  /** Polls GET /api/reports/:id until the job has finished. */
  async function finished(location: string): Promise<{ state: string; result?: unknown }> {
    for (let i = 0; i < 200; i++) {
      const res = await request(app).get(location).expect(200);
      const body = res.body as { state: string; result?: unknown };
      if (body.state === 'completed' || body.state === 'failed') return body;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${location} did not finish`);
  }

  it('queues a report (202 + Location) that a job completes with its result', async () => {
    const res = await request(app)
      .post('/api/reports')
      .send({ text: 'abc', rounds: 3 })
      .expect(202);
    const { id } = res.body as { id: string };
    expect(res.headers.location).toBe(`/api/reports/${id}`);
    const body = await finished(String(res.headers.location));
    expect(body).toMatchObject({ state: 'completed', result: { rounds: 3, pid: process.pid } });
    // Three rounds of SHA-256 over "abc".
    expect((body.result as { digest: string }).digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('de-duplicates by Idempotency-Key: the same key is the same job', async () => {
    const send = () =>
      request(app)
        .post('/api/reports')
        .set('Idempotency-Key', 'same-key')
        .send({ text: 'once', rounds: 1 })
        .expect(202);
    const first = await send();
    const second = await send();
    expect(second.body).toEqual(first.body);
    const body = await finished(String(first.headers.location));
    expect(body.state).toBe('completed');
    // Sent again after it completed: still the same job, not run again.
    expect((await send()).body).toEqual(first.body);
  });

  it('answers 400 to bad input and 404 to an unknown id', async () => {
    for (const bad of [
      {},
      { text: '', rounds: 1 },
      { text: 'x', rounds: 0 },
      { text: 'x', rounds: 1.5 },
    ]) {
      await request(app).post('/api/reports').send(bad).expect(400);
    }
    await request(app)
      .post('/api/reports')
      .set('Idempotency-Key', 'no spaces allowed')
      .send({ text: 'x', rounds: 1 })
      .expect(400);
    await request(app).get('/api/reports/report-unknown').expect(404);
  });
});
