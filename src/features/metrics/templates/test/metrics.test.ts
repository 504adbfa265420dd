import { createServer } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import metrics, { httpRequestDuration, metricsSettings } from '../src/features/metrics.js';
import { testContext } from './helpers.js';

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

afterEach(async () => {
  vi.unstubAllEnvs();
  await metrics.shutdown?.();
});

describe('metrics', () => {
  it('serves default metrics and the request histogram', async () => {
    const app = await createApp(testContext(), [metrics]);
    await request(app).get('/api/hello').expect(200);
    const res = await request(app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toContain('process_cpu_user_seconds_total');
    expect(res.text).toMatch(
      /http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/hello",status_code="200"\}/,
    );
  });

  it('labels by route pattern, never the raw URL, and skips health and metrics', async () => {
    const app = await createApp(testContext(), [metrics]);
    const hello = await counted('/api/hello', '200');
    const unmatched = await counted('(unmatched)', '404');
    await request(app).get('/api/hello?name=a').expect(200);
    await request(app).get('/api/hello?name=b').expect(200);
    await request(app).get('/no/such/page/123').expect(404);
    await request(app).get('/healthz').expect(200);
    await request(app).get('/metrics').expect(200);
    expect(await counted('/api/hello', '200')).toBe(hello + 2);
    expect(await counted('(unmatched)', '404')).toBe(unmatched + 1);
    const text = (await request(app).get('/metrics')).text;
    expect(text).not.toContain('/no/such/page');
    expect(text).not.toContain('route="/healthz"');
    expect(text).not.toContain('route="/metrics"');
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    vi.stubEnv('METRICS_TOKEN', 'secret-token');
    const app = await createApp(testContext(), [metrics]);
    await request(app).get('/metrics').expect(401);
    await request(app).get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
    await request(app).get('/metrics').set('Authorization', 'Bearer secret-token').expect(200);
  });

  it('moves /metrics to METRICS_PORT', async () => {
    const port = await freePort();
    vi.stubEnv('METRICS_PORT', String(port));
    const app = await createApp(testContext({ HOST: '127.0.0.1' }), [metrics]);
    await request(app).get('/metrics').expect(404);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('http_request_duration_seconds');
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });

  it('gives each PM2 instance its own metrics port', () => {
    expect(metricsSettings({ METRICS_PORT: '9400', pm_id: '3', NODE_APP_INSTANCE: '2' }).port).toBe(
      9402,
    );
    expect(metricsSettings({ METRICS_PORT: '9400' }).port).toBe(9400);
    expect(metricsSettings({}).port).toBeUndefined();
  });
});
