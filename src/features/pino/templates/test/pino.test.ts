import { Writable } from 'node:stream';
import type { Express } from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import type { AppContext, Feature } from '../src/feature.js';
import { features } from '../src/features/index.js';
import { asAppLogger, createPino, requestLogger } from '../src/features/pino.js';
import { testContext } from './helpers.js';

type LogRecord = Record<string, unknown>;

/** A pino logger built as the app builds it, writing into memory instead of stdout. */
function captured(env: Record<string, string> = {}) {
  const base = testContext({ NODE_ENV: 'production', LOG_LEVEL: 'http', ...env });
  const { config } = base;
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().trimEnd().split('\n'));
      callback();
    },
  });
  const root = createPino(config.logLevel, stream);
  const ctx: AppContext = { ...base, logger: asAppLogger(root) };
  // The request logger on this same in-memory logger, registered as the pino feature does.
  const capture: Feature = {
    name: 'capture',
    setup: (app: Express) => void app.use(requestLogger(root)),
  };
  const others = features.filter((f) => f.name !== 'pino');
  const records = (): LogRecord[] => lines.map((line) => JSON.parse(line) as LogRecord);
  return { ctx, lines, records, features: [capture, ...others] };
}

describe('pino logging', () => {
  it('logs one object per finished request with the app request id, without secrets', async () => {
    const { ctx, lines, records, features: installed } = captured();
    const app = await createApp(ctx, installed);
    await request(app)
      .get('/api/hello?name=x')
      .set('X-Request-Id', 'req-42')
      .set('Authorization', 'Bearer secret-token')
      .set('Cookie', 'sid=secret-cookie')
      .expect(200);
    await vi.waitFor(() =>
      expect(records().find((r) => r.message === 'request finished')).toBeDefined(),
    );
    const line = records().find((r) => r.message === 'request finished');
    expect(line).toMatchObject({
      level: 'http',
      requestId: 'req-42',
      route: '/api/hello',
      req: { id: 'req-42', method: 'GET' },
      res: { statusCode: 200 },
    });
    expect(typeof line?.durationMs).toBe('number');
    expect(typeof line?.time).toBe('string');
    expect(lines.join('\n')).not.toMatch(/secret-token|secret-cookie/);
    expect((line?.req as { headers: LogRecord }).headers.authorization).toBe('[redacted]');
  });

  it('adds the request id to every line logged while handling a request', async () => {
    const { ctx, records, features: installed } = captured();
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
    const app = await createApp(ctx, [...installed, worker]);
    const res = await request(app).get('/work').expect(200);
    const line = records().find((r) => r.message === 'working');
    expect(line).toMatchObject({ requestId: res.headers['x-request-id'], step: 1 });
  });

  it('keeps error stacks and redacts Authorization and Cookie values in any fields', () => {
    const { ctx, records } = captured();
    ctx.logger.error('failed', {
      error: new Error('kaput'),
      headers: { authorization: 'Bearer abc', cookie: 'sid=1', accept: 'text/plain' },
    });
    const [line] = records();
    expect((line?.error as LogRecord).stack).toContain('Error: kaput');
    expect(line?.headers).toEqual({
      authorization: '[redacted]',
      cookie: '[redacted]',
      accept: 'text/plain',
    });
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
