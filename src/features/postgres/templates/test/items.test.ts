import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express, { type Express } from 'express';
import { createApp } from '../src/app.js';
import type { Feature } from '../src/feature.js';
import { features } from '../src/features/index.js';
import { itemRoutes } from '../src/routes/items.js';
import { testContext } from './helpers.js';

/**
 * Mounts the routes itself, so that the test does not depend on src/routes/examples.ts mounting
 * them (after `add postgres` it does not until you add `router.use(itemRoutes(ctx))` there).
 */
const mountItems: Feature = {
  name: 'items-under-test',
  setup(app, ctx) {
    app.use(express.json({ limit: ctx.config.bodyLimit }), itemRoutes(ctx));
  },
};

/** The /api/items example of src/routes/items.ts, on the embedded PGlite (no server needed). */
describe('/api/items', () => {
  let app: Express;
  beforeAll(async () => {
    app = await createApp(testContext(), [...features, mountItems]);
    // The first query opens PGlite and applies the migrations: seconds on a busy machine.
    await request(app).get('/api/items').expect(200);
  }, 120_000);
  afterAll(async () => {
    for (const feature of features) await feature.shutdown?.();
  });

  it('creates, reads, updates and deletes an item', async () => {
    const created = await request(app).post('/api/items').send({ name: 'first' }).expect(201);
    expect(created.body).toMatchObject({ name: 'first', description: '' });
    const id = (created.body as { id: number }).id;
    expect(created.headers.location).toBe(`/api/items/${id}`);
    await request(app)
      .get(`/api/items/${id}`)
      .expect(200)
      .expect((r) => expect(r.body).toMatchObject({ id }));
    const updated = await request(app)
      .put(`/api/items/${id}`)
      .send({ name: 'renamed' })
      .expect(200);
    expect(updated.body).toMatchObject({ id, name: 'renamed' });
    await request(app).delete(`/api/items/${id}`).expect(204);
    await request(app).get(`/api/items/${id}`).expect(404);
    await request(app).delete(`/api/items/${id}`).expect(404);
  });

  it('answers 400 with the field errors', async () => {
    const bad = await request(app)
      .post('/api/items')
      .send({ name: '', description: 5 })
      .expect(400);
    expect(Object.keys((bad.body as { fields: object }).fields).sort()).toEqual([
      'description',
      'name',
    ]);
    await request(app).get('/api/items/abc').expect(400);
    await request(app).get('/api/items?limit=1000').expect(400);
  });

  it('pages through the list with a keyset cursor', async () => {
    const ids: number[] = [];
    for (const name of ['a', 'b', 'c']) {
      const res = await request(app).post('/api/items').send({ name }).expect(201);
      ids.push((res.body as { id: number }).id);
    }
    const seen: number[] = [];
    let after = Math.min(...ids) - 1;
    for (;;) {
      const page = await request(app).get(`/api/items?limit=2&after=${after}`).expect(200);
      const body = page.body as { items: { id: number }[]; next: number | null };
      seen.push(...body.items.map((item) => item.id));
      if (body.next === null) break;
      after = body.next;
    }
    expect(seen).toEqual(ids);
  });
});
