import { createServer } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import metrics, { httpRequestDuration } from '../src/features/metrics.js';
import { reuseFor } from '../src/features/metrics/aggregate.js';
import type { Feature } from '../src/feature.js';
import { probe, testContext } from './helpers.js';

/** Requests counted so far for one route and status. */
async function counted(route: string, status: string): Promise<number> {
  const { values } = await httpRequestDuration.get();
  const found = values.find(
    (v) =>
      v.metricName === 'http_request_duration_seconds_count' &&
      v.labels.route === route &&
      v.labels.status_code === status,
  );
  return found?.value ?? 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The metrics feature alone, with settings from `env` only (never the machine's). */
async function appWith(env: Record<string, string> = {}) {
  return createApp(testContext(env, [metrics]), [metrics, probe]);
}

const TOKEN = 'a-scrape-token-of-32-characters!';

afterEach(async () => {
  vi.useRealTimers();
  await metrics.shutdown?.();
});

describe('metrics', () => {
  it('serves default metrics and the request histogram', async () => {
    const app = await appWith();
    await request(app).get('/api/probe').expect(200);
    const res = await request(app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toContain('process_cpu_user_seconds_total');
    expect(res.text).toMatch(
      /http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/probe",status_code="200"\}/,
    );
  });

  it('labels by route pattern, never the raw URL, and skips health and metrics', async () => {
    const app = await appWith();
    const hello = await counted('/api/probe', '200');
    const unmatched = await counted('(unmatched)', '404');
    await request(app).get('/api/probe?name=a').expect(200);
    await request(app).get('/api/probe?name=b').expect(200);
    await request(app).get('/no/such/page/123').expect(404);
    await request(app).get('/healthz').expect(200);
    await request(app).get('/metrics').expect(200);
    expect(await counted('/api/probe', '200')).toBe(hello + 2);
    expect(await counted('(unmatched)', '404')).toBe(unmatched + 1);
    const text = (await request(app).get('/metrics')).text;
    expect(text).not.toContain('/no/such/page');
    expect(text).not.toContain('route="/healthz"');
    expect(text).not.toContain('route="/metrics"');
  });

  it('is private by default in production: no /metrics without a token or a port', async () => {
    const app = await appWith({ NODE_ENV: 'production' });
    await request(app).get('/metrics').expect(404);
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    const app = await appWith({ NODE_ENV: 'production', METRICS_TOKEN: TOKEN });
    await request(app).get('/metrics').expect(401);
    await request(app).get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
    await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
  });

  it('refuses a short METRICS_TOKEN at start', () => {
    const config = loadConfig({ NODE_ENV: 'production' });
    expect(() => metrics.readSettings?.({ METRICS_TOKEN: 'short' }, config)).toThrow(ConfigError);
  });

  it('moves /metrics to METRICS_PORT', async () => {
    const port = await freePort();
    const app = await appWith({ HOST: '127.0.0.1', METRICS_PORT: String(port) });
    await request(app).get('/metrics').expect(404);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('http_request_duration_seconds');
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });

  it('gives each PM2 instance its own metrics port', () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    const read = (env: Record<string, string>) => metrics.readSettings?.(env, config);
    expect(read({ METRICS_PORT: '9400', pm_id: '3', NODE_APP_INSTANCE: '2' })?.port).toBe(9402);
    expect(read({ METRICS_PORT: '9400' })?.port).toBe(9400);
    expect(read({})?.port).toBeUndefined();
  });

  it('aggregates at most once a second however many scrapes arrive', async () => {
    vi.useFakeTimers();
    let reads = 0;
    const read = reuseFor(async () => `body ${++reads}`);
    const burst = await Promise.all(Array.from({ length: 20 }, () => read()));
    expect(new Set(burst)).toEqual(new Set(['body 1']));
    vi.advanceTimersByTime(999);
    expect(await read()).toBe('body 1');
    vi.advanceTimersByTime(1);
    expect(await read()).toBe('body 2');
    expect(reads).toBe(2);
  });

  it('does not keep a failed aggregation', async () => {
    let reads = 0;
    const read = reuseFor(async () => {
      reads += 1;
      if (reads === 1) throw new Error('a worker did not answer');
      return 'body';
    });
    await expect(read()).rejects.toThrow('a worker did not answer');
    expect(await read()).toBe('body');
  });

  it('counts cache hits and misses from the X-Cache header, by route', async () => {
    const cached: Feature = {
      name: 'cached',
      setup(app) {
        app.get('/api/cached', (req, res) => {
          res.setHeader('X-Cache', req.query.hit === '1' ? 'HIT' : 'MISS');
          res.json({ ok: true });
        });
      },
    };
    const app = await createApp(testContext({}, [metrics]), [metrics, cached]);
    await request(app).get('/api/cached?hit=0').expect(200);
    await request(app).get('/api/cached?hit=1').expect(200);
    await request(app).get('/api/cached?hit=1').expect(200);
    const { text } = await request(app).get('/metrics').expect(200);
    expect(text).toMatch(/^http_cache_lookups_total\{route="\/api\/cached",result="hit"\} 2$/m);
    expect(text).toMatch(/^http_cache_lookups_total\{route="\/api\/cached",result="miss"\} 1$/m);
  });

  it('exports the lag of each database replica the app knows of', async () => {
    const replicas: Feature = {
      name: 'replicas',
      setup(_app, ctx) {
        // The shape the postgres feature gives ctx.services.database (only what metrics reads).
        Object.assign(ctx.services, { database: { replicas: [{ lagMs: 1500 }, { lagMs: 0 }] } });
      },
    };
    const app = await createApp(testContext({}, [metrics]), [metrics, replicas]);
    const { text } = await request(app).get('/metrics').expect(200);
    expect(text).toMatch(/^db_replica_lag_seconds\{replica="0"\} 1\.5$/m);
    expect(text).toMatch(/^db_replica_lag_seconds\{replica="1"\} 0$/m);
  });
});
