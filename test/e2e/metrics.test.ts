import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { Connection, workersOf } from '../helpers/connections.js';
import { childPids, getFresh, waitFor } from '../helpers/load.js';
import { freePort } from '../helpers/ports.js';
import { startApp, type Running } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/** The value of one sample line (`name{labels} value`) in a Prometheus text exposition. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const HELLO_COUNT = 'method="GET",route="/api/hello",status_code="200"';
const TOKEN = 'scrape-secret-of-at-least-16-chars';

/** Starts the cluster with both workers listening, so connections spread over them. */
async function startCluster(dir: string, env: Record<string, string>): Promise<Running> {
  const app = await startApp(dir, { WEB_CONCURRENCY: '2', LOG_LEVEL: 'info', ...env });
  onTestFailed(() => console.log(app.output()));
  const listening = (): number => app.output().split('"server listening"').length - 1;
  expect(await waitFor(() => listening() === 2, 20_000), app.output()).toBe(true);
  return app;
}

/**
 * `n` requests over four keep-alive connections (round-robin puts them on both workers), and
 * how many each worker served, read from the kernel's socket table (`ss`): the aggregate is
 * only shown to be an aggregate if more than one worker counted something.
 */
async function sendRequests(app: Running, n: number): Promise<Map<number, number>> {
  const connections = Array.from({ length: 4 }, () => new Connection(app.url));
  try {
    for (let i = 0; i < n; i++) {
      const res = await connections[i % 4]!.get(`/api/hello?name=u${i}`);
      expect(res.status).toBe(200);
    }
    const owners = await workersOf(app.port, connections);
    const workers = await childPids(app.pid);
    const perWorker = new Map<number, number>();
    owners.forEach((pid, i) => {
      expect(workers).toContain(pid);
      const served = Math.floor(n / 4) + (i < n % 4 ? 1 : 0);
      perWorker.set(pid, (perWorker.get(pid) ?? 0) + served);
    });
    return perWorker;
  } finally {
    for (const c of connections) c.close();
  }
}

/**
 * `ms` of /metrics scrapes with the token from 32 concurrent keep-alive connections, while two
 * loops send /healthz on fresh connections. Each aggregation by the primary yields a text of its
 * own (process CPU time, heap and event loop figures change between any two), and a cached one
 * is served byte for byte again: the distinct texts served count the aggregations it caused.
 */
async function flood(url: string, ms: number) {
  const texts = new Set<string>();
  const scrapeStatuses = new Map<number, number>();
  const healthz: (number | string)[] = [];
  let flooding = true;
  const scrape = async (): Promise<void> => {
    while (flooding) {
      const res = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      texts.add(await res.text());
      scrapeStatuses.set(res.status, (scrapeStatuses.get(res.status) ?? 0) + 1);
    }
  };
  const probe = async (): Promise<void> => {
    while (flooding) healthz.push(await getFresh(`${url}/healthz`).catch((e: Error) => e.message));
  };
  const started = performance.now();
  const loops = [...Array.from({ length: 32 }, scrape), ...Array.from({ length: 2 }, probe)];
  await new Promise((resolve) => setTimeout(resolve, ms));
  flooding = false;
  await Promise.all(loops);
  return {
    texts,
    scrapeStatuses,
    scrapes: [...scrapeStatuses.values()].reduce((a, b) => a + b, 0),
    healthz,
    /** Started seconds of the flood, its end included. */
    seconds: Math.ceil((performance.now() - started) / 1000),
  };
}

/**
 * The metrics feature with the cluster, end to end: `--features cluster,metrics` (built against the shared install),
 * run as production would, scraped over HTTP. Each worker counts only what it served, so a
 * scrape shows N after N requests, of which each worker served a part, only if the figures are
 * really aggregated across the workers.
 */
describe('metrics feature (with cluster)', () => {
  let dir = '';
  const N = 30;

  beforeAll(async () => {
    const parent = tempDir();
    ({ dir } = await generateBuilt(parent, 'metered', ['--features', 'cluster,metrics']));
  });

  it('documents METRICS_PORT, METRICS_TOKEN, the private default and cluster aggregation', async () => {
    const env = await readFile(join(dir, '.env.example'), 'utf8');
    expect(env).toMatch(/^METRICS_PORT=/m);
    expect(env).toMatch(/^METRICS_TOKEN=/m);
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('## Prometheus metrics');
    expect(readme).toContain('**Private by default.**');
    expect(readme).toContain('**With the cluster**');
  });

  it('production without METRICS_TOKEN or METRICS_PORT: no /metrics at all', async () => {
    const app = await startCluster(dir, {});
    expect(await getFresh(`${app.url}/metrics`)).toBe(404);
    expect(app.output()).toContain('/metrics is off in production');
    expect(await app.stop()).toBe(0);
  });

  it('METRICS_PORT: the primary serves the aggregate of both workers; workers serve none', async () => {
    const metricsPort = await freePort();
    const app = await startCluster(dir, { METRICS_PORT: String(metricsPort) });
    const perWorker = await sendRequests(app, N);
    expect(perWorker.size).toBe(2);
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

  it('METRICS_TOKEN: each worker answers a scrape on the app port with the aggregate', async () => {
    const app = await startCluster(dir, { METRICS_TOKEN: TOKEN });
    const perWorker = await sendRequests(app, N);
    expect(perWorker.size).toBe(2);
    expect(await getFresh(`${app.url}/metrics`)).toBe(401);
    // Two connections, one on each worker: both answer with the whole instance's N.
    const scrapers = [new Connection(app.url), new Connection(app.url)];
    try {
      for (const scraper of scrapers) {
        const res = await scraper.get('/metrics', { Authorization: `Bearer ${TOKEN}` });
        expect(res.status).toBe(200);
        expect(sample(res.body, 'http_request_duration_seconds_count', HELLO_COUNT)).toBe(N);
        // Scrapes are not counted as requests.
        expect(res.body).not.toContain('route="/metrics"');
      }
      expect(new Set(await workersOf(app.port, scrapers)).size).toBe(2);
      // A burst of scrapes is answered (from the shared aggregate), none fails.
      const burst = await Promise.all(
        Array.from({ length: 50 }, () =>
          fetch(`${app.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } }),
        ),
      );
      expect(burst.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 200));
    } finally {
      for (const scraper of scrapers) scraper.close();
    }
    expect(await app.stop()).toBe(0);
  });

  it('a flood of token scrapes: every /healthz answered, the primary aggregates about once a second', async () => {
    const app = await startCluster(dir, { METRICS_TOKEN: TOKEN });
    // Without the token, or with a wrong one: 401, as the README documents.
    expect(await getFresh(`${app.url}/metrics`)).toBe(401);
    const wrong = await fetch(`${app.url}/metrics`, {
      headers: { Authorization: `Bearer not-${TOKEN}` },
    });
    expect(wrong.status).toBe(401);

    const { texts, scrapeStatuses, scrapes, healthz, seconds } = await flood(app.url, 3000);

    // Counts, not throughput: every probe and every scrape answered, and at most one aggregation
    // per started second plus one (the first). A slow machine only makes fewer of each.
    expect(healthz.length).toBeGreaterThan(0);
    expect(healthz.filter((status) => status !== 200)).toEqual([]);
    expect(scrapeStatuses).toEqual(new Map([[200, scrapes]]));
    expect(texts.size).toBeGreaterThan(0);
    expect(texts.size, `${texts.size} aggregations for ${scrapes} scrapes`).toBeLessThanOrEqual(
      seconds + 1,
    );
    // It was a flood: without the shared, cached aggregate, these scrapes would each have
    // caused one (many times the bound above).
    expect(scrapes).toBeGreaterThan(5 * (seconds + 1));
    expect(await app.stop()).toBe(0);
  });
});
