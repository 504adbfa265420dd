import { Writable } from 'node:stream';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import type { AppContext, Feature } from '../src/feature.js';
import { features } from '../src/features/index.js';
import { asAppLogger, createPino } from '../src/features/pino.js';
import { probe, testContext } from './helpers.js';

type LogRecord = Record<string, unknown>;

/**
 * The app's context with a pino logger built as the app builds it, writing into memory instead of
 * stdout. The installed features, the real pino feature included, log requests through it.
 */
function captured(env: Record<string, string> = {}) {
  const base = testContext({ NODE_ENV: 'production', LOG_LEVEL: 'http', ...env });
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().trimEnd().split('\n'));
      callback();
    },
  });
  const ctx: AppContext = {
    ...base,
    logger: asAppLogger(createPino(base.config.logLevel, stream)),
  };
  const records = (): LogRecord[] => lines.map((line) => JSON.parse(line) as LogRecord);
  const finished = (): LogRecord[] => records().filter((r) => r.message === 'request finished');
  return { ctx, lines, records, finished };
}

const SECRETS = [
  'secret-token',
  'secret-cookie',
  'secret-key',
  'secret-auth',
  'secret-query',
  'secret-pass',
];

describe('pino logging', () => {
  it('logs one object per finished request with the app request id, without secrets', async () => {
    const { ctx, lines, finished } = captured();
    const app = await createApp(ctx, [...features, probe]);
    await request(app)
      .get('/api/probe?name=x&token=secret-query&password=secret-pass')
      .set('X-Request-Id', 'req-42')
      .set('Authorization', 'Bearer secret-token')
      .set('Cookie', 'sid=secret-cookie')
      .set('X-Api-Key', 'secret-key')
      .set('X-Auth-Token', 'secret-auth')
      .expect(200);
    await vi.waitFor(() => expect(finished()).toHaveLength(1));
    const [line] = finished();
    expect(line).toMatchObject({
      level: 'http',
      requestId: 'req-42',
      route: '/api/probe',
      req: { id: 'req-42', method: 'GET' },
      res: { statusCode: 200 },
    });
    expect(typeof line?.durationMs).toBe('number');
    expect(typeof line?.time).toBe('string');
    const logged = lines.join('\n');
    for (const secret of SECRETS) expect(logged).not.toContain(secret);
    const req = line?.req as { url: string; headers: LogRecord };
    expect(req.url).toBe('/api/probe?name=x&token=[redacted]&password=[redacted]');
    expect(req.headers['x-api-key']).toBe('[redacted]');
    expect(req.headers.authorization).toBe('[redacted]');
  });

  it('logs requests the body parser refuses (400, 413, 415)', async () => {
    const { ctx, finished } = captured({ BODY_LIMIT: '1kb' });
    const app = await createApp(ctx, features);
    await request(app)
      .post('/api/probe')
      .set('Content-Type', 'application/json')
      .send('{"a":')
      .expect(400);
    await request(app)
      .post('/api/probe')
      .send({ big: 'x'.repeat(2048) })
      .expect(413);
    await request(app)
      .post('/api/probe')
      .set('Content-Type', 'application/json; charset=latin-9')
      .send('{}')
      .expect(415);
    await vi.waitFor(() => expect(finished()).toHaveLength(3));
    expect(finished().map((r) => (r.res as LogRecord).statusCode)).toEqual([400, 413, 415]);
  });

  it('adds the request id to every line logged while handling a request', async () => {
    const { ctx, records } = captured();
    const worker: Feature = {
      name: 'worker',
      setup(app, context) {
        app.get('/work', async (_req, res) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          context.logger.info('working', { step: 1 });
          res.json({ ok: true });
        });
      },
    };
    const app = await createApp(ctx, [...features, worker]);
    const res = await request(app).get('/work').expect(200);
    const line = records().find((r) => r.message === 'working');
    expect(line).toMatchObject({ requestId: res.headers['x-request-id'], step: 1 });
  });

  it('keeps error stacks and redacts secret headers in the fields of any line', () => {
    const { ctx, records } = captured();
    ctx.logger.error('failed', {
      error: new Error('kaput'),
      headers: { authorization: 'Bearer abc', 'X-Api-Key': 'k', accept: 'text/plain' },
      cookie: 'sid=1',
    });
    const [line] = records();
    expect((line?.error as LogRecord).stack).toContain('Error: kaput');
    expect(line?.headers).toEqual({
      authorization: '[redacted]',
      'X-Api-Key': '[redacted]',
      accept: 'text/plain',
    });
    expect(line?.cookie).toBe('[redacted]');
  });

  it('honours LOG_LEVEL, with http between info and debug', () => {
    const { ctx, records } = captured({ LOG_LEVEL: 'info' });
    ctx.logger.debug('hidden');
    ctx.logger.http('hidden too');
    ctx.logger.info('shown');
    ctx.logger.warn('shown too');
    expect(records().map((r) => r.message)).toEqual(['shown', 'shown too']);
  });
});
