import { Writable } from 'node:stream';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import winston from 'winston';
import { createApp } from '../src/app.js';
import type { AppContext, Feature } from '../src/feature.js';
import { features } from '../src/features/index.js';
import { asAppLogger, createWinstonLogger, winstonSettings } from '../src/features/winston.js';
import { probe, testContext } from './helpers.js';

type LogRecord = Record<string, unknown>;

/** A winston logger built exactly as the app builds it, writing into memory instead of stdout. */
function captured(env: Record<string, string> = {}) {
  const all = { NODE_ENV: 'production', LOG_LEVEL: 'http', ...env };
  const base = testContext(all);
  const { config } = base;
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString().trimEnd());
      callback();
    },
  });
  const logger = createWinstonLogger(config, winstonSettings(all, config));
  logger.clear().add(new winston.transports.Stream({ stream }));
  const ctx: AppContext = { ...base, logger: asAppLogger(logger) };
  const records = (): LogRecord[] => lines.map((line) => JSON.parse(line) as LogRecord);
  return { ctx, lines, records };
}

const SECRETS = [
  'secret-token',
  'secret-cookie',
  'secret-key',
  'secret-auth',
  'secret-query',
  'secret-pass',
];

describe('winston logging', () => {
  it('logs one structured object per finished request, without secrets', async () => {
    const { ctx, lines, records } = captured();
    const app = await createApp(ctx, [...features, probe]);
    await request(app)
      .get('/api/probe?name=x&token=secret-query&password=secret-pass')
      .set('X-Request-Id', 'req-42')
      .set('Authorization', 'Bearer secret-token')
      .set('Cookie', 'sid=secret-cookie')
      .set('X-Api-Key', 'secret-key')
      .set('X-Auth-Token', 'secret-auth')
      .expect(200);
    await vi.waitFor(() => expect(records().some((r) => r.requestId === 'req-42')).toBe(true));
    const line = records().find((r) => r.message === 'request finished');
    expect(line).toMatchObject({
      level: 'http',
      requestId: 'req-42',
      method: 'GET',
      route: '/api/probe',
      path: '/api/probe',
      status: 200,
    });
    expect(typeof line?.durationMs).toBe('number');
    expect(typeof line?.timestamp).toBe('string');
    const logged = lines.join('\n');
    for (const secret of SECRETS) expect(logged).not.toContain(secret);
  });

  it('logs requests the body parser refuses (400, 413, 415)', async () => {
    const { ctx, records } = captured({ BODY_LIMIT: '1kb' });
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
    const finished = () => records().filter((r) => r.message === 'request finished');
    await vi.waitFor(() => expect(finished()).toHaveLength(3));
    expect(finished().map((r) => r.status)).toEqual([400, 413, 415]);
  });

  it('adds the request id to every line logged while handling a request', async () => {
    const { ctx, records } = captured();
    const worker: Feature = {
      name: 'worker',
      setup(app, context) {
        app.get('/work', async (_req, res) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          context.logger.info('working');
          res.json({ ok: true });
        });
      },
    };
    const app = await createApp(ctx, [...features, worker]);
    const res = await request(app).get('/work').expect(200);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await vi.waitFor(() => expect(records().find((r) => r.message === 'working')).toBeDefined());
    expect(records().find((r) => r.message === 'working')?.requestId).toBe(id);
  });

  it('keeps error stacks and redacts secret headers in the fields of any line', async () => {
    const { ctx, records } = captured();
    ctx.logger.error('failed', {
      error: new Error('kaput'),
      headers: { Authorization: 'Bearer abc', cookie: 'sid=1', accept: 'text/plain' },
    });
    await vi.waitFor(() => expect(records()).toHaveLength(1));
    const [line] = records();
    expect((line?.error as LogRecord).stack).toContain('Error: kaput');
    expect(line?.headers).toEqual({
      Authorization: '[redacted]',
      cookie: '[redacted]',
      accept: 'text/plain',
    });
  });

  it('honours LOG_LEVEL', async () => {
    const { ctx, records } = captured({ LOG_LEVEL: 'warn' });
    ctx.logger.info('hidden');
    ctx.logger.http('hidden too');
    ctx.logger.warn('shown');
    await vi.waitFor(() => expect(records()).toHaveLength(1));
    expect(records()[0]?.message).toBe('shown');
  });

  it('spends nothing on lines below LOG_LEVEL: no formatting, no request timing', async () => {
    const { ctx, records } = captured({ LOG_LEVEL: 'info' });
    let read = 0;
    ctx.logger.debug('hidden', {
      get costly() {
        read += 1;
        return 'formatted';
      },
    });
    const http = vi.spyOn(ctx.logger, 'http');
    const app = await createApp(ctx, [...features, probe]);
    await request(app).get('/api/probe').expect(200);
    ctx.logger.info('shown');
    // Other features may log at info while the app starts: look for these lines only.
    const messages = () => records().map((record) => record.message);
    await vi.waitFor(() => expect(messages()).toContain('shown'));
    expect(messages()).not.toContain('hidden');
    expect(records().filter((record) => record.level === 'http')).toEqual([]);
    expect(read).toBe(0);
    expect(http).not.toHaveBeenCalled();
  });

  it('writes readable lines in development', async () => {
    const { ctx, lines } = captured({ NODE_ENV: 'development' });
    ctx.logger.info('hello there', { port: 3000 });
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} info hello there \{"port":3000\}$/);
  });
});
