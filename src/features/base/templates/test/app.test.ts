import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import { HttpError } from '../src/errors.js';
import type { Feature } from '../src/feature.js';
import { features } from '../src/features/index.js';
import { API_HELMET_OPTIONS, documentHeaders } from '../src/security-headers.js';
import { probe, testContext } from './helpers.js';

/** The headers of a response that are about security: not those that differ per response. */
function securityHeadersOf(headers: Record<string, string>): Record<string, string> {
  const perResponse = [
    'date',
    'etag',
    'connection',
    'keep-alive',
    'content-length',
    'content-type',
    'x-request-id',
  ];
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !perResponse.includes(name)),
  );
}

describe('the app', () => {
  it('answers liveness and readiness checks', async () => {
    const app = await createApp(testContext());
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body.status).not.toBe('down');
  });

  it('sets security headers and hides the framework', async () => {
    const app = await createApp(testContext(), [...features, probe]);
    const res = await request(app).get('/api/probe');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it("sends helmet's API set on every response, with helmet's values", async () => {
    const reference = express();
    reference.disable('x-powered-by');
    reference.use(helmet(API_HELMET_OPTIONS));
    reference.get('/api/probe', (_req, res) => {
      res.json({ ok: true });
    });
    const expected = securityHeadersOf((await request(reference).get('/api/probe')).headers);
    const app = await createApp(testContext(), [...features, probe]);
    const actual = (await request(app).get('/api/probe')).headers;
    // Features may add headers of their own (a rate limit's): every one of helmet's is there.
    for (const [name, value] of Object.entries(expected)) expect(actual[name], name).toBe(value);
    expect(actual['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(actual['strict-transport-security']).toBeDefined();
    // The document-only ones stay off API responses.
    expect(actual['cross-origin-opener-policy']).toBeUndefined();
  });

  it("gives an HTML page helmet's full default set", async () => {
    const reference = express();
    reference.use(helmet());
    reference.get('/page', (_req, res) => {
      res.type('html').send('<p>hi</p>');
    });
    const expected = securityHeadersOf((await request(reference).get('/page')).headers);
    const page: Feature = {
      name: 'page',
      setup(app) {
        app.get('/page', (_req, res) => {
          documentHeaders(res);
          res.type('html').send('<p>hi</p>');
        });
      },
    };
    const app = await createApp(testContext(), [page]);
    const actual = (await request(app).get('/page')).headers;
    for (const [name, value] of Object.entries(expected)) expect(actual[name], name).toBe(value);
    expect(Object.keys(expected).length).toBeGreaterThan(10);
  });

  it('echoes a sane incoming request id and makes one otherwise', async () => {
    const app = await createApp(testContext(), [...features, probe]);
    const given = await request(app).get('/api/probe').set('X-Request-Id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await request(app).get('/api/probe').set('X-Request-Id', 'bad id\twith spaces');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const app = await createApp(testContext());
    const res = await request(app).get('/nope').expect(404);
    expect(res.body.error).toBe('Not Found');
  });

  it('rejects bodies over the limit', async () => {
    const app = await createApp(testContext({ BODY_LIMIT: '1kb' }));
    await request(app)
      .post('/any-path')
      .send({ big: 'x'.repeat(2048) })
      .expect(413);
  });

  it('shows stack traces only when NODE_ENV is development or test, never when unset', async () => {
    const failing: Feature = {
      name: 'failing',
      setup(app) {
        app.get('/boom', async () => {
          throw new Error('database password is hunter2');
        });
      },
    };
    for (const nodeEnv of ['production', '']) {
      // Only this app's feature: an installed one may need settings that production requires.
      const ctx = testContext({ NODE_ENV: nodeEnv, LOG_LEVEL: 'error' }, [failing]);
      const app = await createApp(ctx, [failing]);
      // The error is logged (on stdout); the client sees nothing of it.
      const log = vi.spyOn(process.stdout, 'write').mockReturnValue(true);
      const hidden = await request(app).get('/boom').expect(500);
      log.mockRestore();
      expect(hidden.body).toEqual({ error: 'Internal Server Error' });
    }
    for (const nodeEnv of ['development', 'test']) {
      const app = await createApp(testContext({ NODE_ENV: nodeEnv, LOG_LEVEL: 'error' }), [
        failing,
      ]);
      const log = vi.spyOn(process.stdout, 'write').mockReturnValue(true);
      const shown = await request(app).get('/boom').expect(500);
      log.mockRestore();
      expect(shown.body.stack).toContain('hunter2');
    }
  });

  it('echoes a 4xx message only when the error exposes it', async () => {
    const throwing: Feature = {
      name: 'throwing',
      setup(app) {
        app.get('/missing', () => {
          throw new HttpError(404, 'No such order');
        });
        app.get('/internal', () => {
          // A library error carrying a status but not meant for clients.
          throw Object.assign(new Error('row 42 violates constraint orders_pkey'), { status: 400 });
        });
      },
    };
    const app = await createApp(testContext(), [throwing]);
    await request(app).get('/missing').expect(404, { error: 'No such order' });
    await request(app).get('/internal').expect(400, { error: 'Bad Request' });
    // Express's own errors (body-parser) follow the same convention and expose their message.
    const bad = await request(app)
      .post('/any-path')
      .set('Content-Type', 'application/json')
      .send('{"a":')
      .expect(400);
    expect(bad.body.error).not.toBe('Bad Request');
  });

  it('reports a feature that is down as not ready', async () => {
    const down: Feature = { name: 'db', readiness: () => 'down' };
    const degraded: Feature = { name: 'cache', readiness: () => 'degraded' };
    const app = await createApp(testContext(), [...features, degraded, down]);
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body.checks).toMatchObject({ db: 'down', cache: 'degraded' });
  });
});
