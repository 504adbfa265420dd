import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getFresh, waitFor } from '../helpers/load.js';
import { freePort } from '../helpers/ports.js';
import { startApp, type Running } from '../helpers/processes.js';
import { generateVerified } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/** The value of one sample line (`name{labels} value`) in a Prometheus text exposition. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const HELLO_COUNT = 'method="GET",route="/api/hello",status_code="200"';

/** Starts the cluster with both workers listening, so requests spread over them. */
async function startCluster(dir: string, env: Record<string, string>): Promise<Running> {
  const app = await startApp(dir, { WEB_CONCURRENCY: '2', LOG_LEVEL: 'info', ...env });
  const listening = (): number => app.output().split('"server listening"').length - 1;
  expect(await waitFor(() => listening() === 2, 20_000), app.output()).toBe(true);
  return app;
}

/** N requests, each on a new connection: the cluster's round-robin spreads them over workers. */
async function sendRequests(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) expect(await getFresh(`${url}/api/hello?name=u${i}`)).toBe(200);
}

/**
 * The metrics feature with the cluster, end to end: `--features cluster,metrics` (full verify), run
 * as production would, scraped over HTTP. Each worker counts only what it served, so a scrape
 * shows N after N requests only if the figures are really aggregated across the workers.
 */
describe('metrics feature (with cluster)', () => {
  let dir = '';
  const N = 30;

  beforeAll(async () => {
    const parent = tempDir();
    ({ dir } = await generateVerified(parent, 'metered', ['--features', 'cluster,metrics']));
  });

  it('documents METRICS_PORT, METRICS_TOKEN and cluster aggregation', async () => {
    const env = await readFile(join(dir, '.env.example'), 'utf8');
    expect(env).toMatch(/^METRICS_PORT=/m);
    expect(env).toMatch(/^METRICS_TOKEN=/m);
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('## Prometheus metrics');
    expect(readme).toContain('**With the cluster**');
  });

  it('METRICS_PORT: the primary serves the aggregate of every worker; workers serve none', async () => {
    const metricsPort = await freePort();
    const app = await startCluster(dir, { METRICS_PORT: String(metricsPort) });
    await sendRequests(app.url, N);
    expect(await getFresh(`${app.url}/healthz`)).toBe(200);
    expect(await getFresh(`${app.url}/no/such/page`)).toBe(404);

    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sample(text, 'http_request_duration_seconds_count', HELLO_COUNT)).toBe(N);
    // Route patterns only: the query strings and the unknown path never become labels.
    expect(text).not.toContain('name=u');
    expect(text).not.toContain('/no/such/page');
    expect(
      sample(
        text,
        'http_request_duration_seconds_count',
        'method="GET",route="(unmatched)",status_code="404"',
      ),
    ).toBe(1);
    expect(text).not.toContain('route="/healthz"');
    expect(text).toContain('process_cpu_user_seconds_total');
    // The app port has no /metrics (a 404, itself counted as unmatched, not as /metrics).
    expect(await getFresh(`${app.url}/metrics`)).toBe(404);
    expect(await app.stop()).toBe(0);
  });

  it('METRICS_TOKEN: any worker answers a scrape on the app port with the aggregate', async () => {
    const app = await startCluster(dir, { METRICS_TOKEN: 'scrape-secret' });
    await sendRequests(app.url, N);
    expect(await getFresh(`${app.url}/metrics`)).toBe(401);
    // Several scrapes on new connections: each lands on some worker, each sees all N.
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${app.url}/metrics`, {
        headers: { Authorization: 'Bearer scrape-secret', Connection: 'close' },
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(sample(text, 'http_request_duration_seconds_count', HELLO_COUNT)).toBe(N);
      // Scrapes are not counted as requests.
      expect(text).not.toContain('route="/metrics"');
    }
    expect(await app.stop()).toBe(0);
  });
});
