import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parse, stringify } from 'yaml';
import { binaryPath } from '../helpers/binaries.js';
import { waitFor } from '../helpers/load.js';
import {
  dashboardQueries,
  dashboardTypeErrors,
  rulesOf,
  withBoolComparisons,
  withGrafanaVariables,
  type DashboardJson,
} from '../helpers/monitoring.js';
import { freePort, waitForHttp } from '../helpers/ports.js';
import { spawnTracked, startApp, startRedis, type Running } from '../helpers/processes.js';
import { hasPostgres, startPrimaryAndReplica } from '../helpers/postgres.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

const NAME = 'watched';

/**
 * The metrics feature's monitoring stack against the real thing: one project
 * (`--features metrics,redis,postgres,docker`, built against the shared install) built and booted with a real Redis,
 * a PostgreSQL primary and streaming replica, and its own metrics port, scraped by Debian's Prometheus with the generated alert rules. Every PromQL
 * expression of the dashboard and the rules must select at least one series once the app has
 * served some traffic.
 */
describe('Prometheus and Grafana files (metrics)', () => {
  const prometheusBin = binaryPath('prometheus');
  const promtool = binaryPath('promtool');
  const redisBin = binaryPath('redis-server');
  const ready = Boolean(prometheusBin && promtool && redisBin && hasPostgres());
  const parent = tempDir('cse-monitoring-');
  let dir = '';
  let app: Running | undefined;
  let redis: Running | undefined;
  let starting: ReturnType<typeof startPrimaryAndReplica> | undefined;
  let prometheus: { stop: () => Promise<unknown>; output: () => string } | undefined;
  let api = '';

  /** One instant query through Prometheus's HTTP API. */
  async function query(expr: string): Promise<Series[]> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data: { result: Series[] };
    };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  }

  const upValue = async () => (await query(`up{job="${NAME}"}`))[0]?.value[1];

  beforeAll(async () => {
    if (!ready) return; // locally without the binaries (under CI=true binaryPath throws)
    // PostgreSQL's primary and streaming replica start while the project installs.
    starting = startPrimaryAndReplica();
    const [project, pg] = await Promise.all([
      generateBuilt(parent, NAME, ['--features', 'metrics,redis,postgres,docker']),
      starting,
    ]);
    dir = project.dir;
    const database = { DATABASE_URL: pg.primary.url, DATABASE_REPLICA_URLS: pg.replica.url };
    const migrate = await execa(process.execPath, ['dist/features/postgres/migrate.js'], {
      cwd: dir,
      env: { ...database, NODE_ENV: 'production', PATH: process.env.PATH ?? '' },
      extendEnv: false,
      reject: false,
      all: true,
    });
    expect(migrate.exitCode, migrate.all).toBe(0);
    redis = await startRedis();
    const metricsPort = await freePort();
    app = await startApp(dir, {
      ...database,
      METRICS_PORT: String(metricsPort),
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    });

    // A test copy of the generated prometheus.yml. Only what the test machine cannot have is
    // changed: the target (Compose's DNS name `app` does not exist here: the app's loopback
    // metrics port instead), the rule file's path (absolute, as the copy lives elsewhere), and
    // 1 s intervals so that rates exist within seconds. The job, path and rules are as generated.
    const config = parse(readFileSync(join(dir, 'monitoring/prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: Record<string, unknown>[];
    };
    const job = config.scrape_configs[0]!;
    expect(job.dns_sd_configs).toBeDefined();
    delete job.dns_sd_configs;
    job.static_configs = [{ targets: [`127.0.0.1:${metricsPort}`] }];
    config.global.scrape_interval = '1s';
    config.global.evaluation_interval = '1s';
    config.rule_files = config.rule_files.map((file) => join(dir, 'monitoring', file));
    const work = join(parent, 'prometheus');
    mkdirSync(join(work, 'data'), { recursive: true });
    writeFileSync(join(work, 'prometheus.yml'), stringify(config));

    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const { child, output } = spawnTracked(prometheusBin!, [
      `--config.file=${join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(work, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    prometheus = {
      output,
      stop: async () => {
        child.kill('SIGTERM');
        await child;
      },
    };
    await waitForHttp(`${api}/-/ready`, 30_000);

    // Traffic in two rounds: a labelled series first appears with the first request, and a rate
    // counts only what a series gains between scrapes. Routes (one fast, one cached: a miss then
    // hits) and a 404. No route of the app fails with a 5xx: the error ratio must then be 0.
    const round = async () => {
      for (let i = 0; i < 20; i++) expect((await fetch(`${app!.url}/api/hello`)).status).toBe(200);
      for (let i = 0; i < 3; i++)
        expect((await fetch(`${app!.url}/api/slow?n=1`)).status).toBe(200);
      expect((await fetch(`${app!.url}/no/such/page`)).status).toBe(404);
      expect((await fetch(`${app!.url}/api/items`)).status).toBe(200);
    };
    await round();
    const scraped = `http_cache_lookups_total{job="${NAME}",result="hit"}`;
    expect(await waitFor(async () => (await query(scraped)).length > 0, 30_000)).toBe(true);
    await round();
  });

  afterAll(async () => {
    await prometheus?.stop();
    await app?.stop();
    await redis?.stop();
    // Also when the project failed to generate: the servers started meanwhile are stopped.
    await (await starting?.catch(() => undefined))?.destroy();
  });

  it.skipIf(!ready)('the generated config and rules pass promtool', async () => {
    for (const args of [
      ['check', 'config', 'monitoring/prometheus.yml'],
      ['check', 'rules', 'monitoring/alerts.yml'],
    ]) {
      const result = await execa(promtool!, args, { cwd: dir, reject: false, all: true });
      expect(result.exitCode, result.all).toBe(0);
    }
  });

  it.skipIf(!ready)(
    'scrapes the app: the target is up and a latency quantile has a value',
    async () => {
      onTestFailed(() => console.log(prometheus?.output()));
      expect(await waitFor(async () => (await upValue()) === '1', 30_000)).toBe(true);
      const p99 = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="${NAME}",route="/api/hello"}[30s])))`;
      // Rates need two scrapes after the traffic: wait for them rather than for a fixed time.
      expect(await waitFor(async () => (await query(p99)).length > 0, 30_000)).toBe(true);
      // Finite: NaN would mean no request in the window (rate 0 in every bucket).
      const finite = async () => Number.isFinite(Number((await query(p99))[0]?.value[1]));
      expect(await waitFor(finite, 30_000)).toBe(true);
      const value = Number((await query(p99))[0]!.value[1]);
      expect(value).toBeGreaterThan(0);
    },
  );

  it.skipIf(!ready)(
    'every dashboard and alert expression selects at least one series with a value',
    async () => {
      const dashboard = JSON.parse(
        readFileSync(join(dir, 'monitoring/grafana/dashboards/app.json'), 'utf8'),
      ) as DashboardJson;
      const expressions = [
        ...dashboardQueries(dashboard).map((q) => ({
          name: `panel "${q.name}"`,
          expr: withGrafanaVariables(q.expr, '5m'),
        })),
        ...rulesOf(readFileSync(join(dir, 'monitoring/alerts.yml'), 'utf8')).map((rule) => ({
          name: `alert ${rule.alert ?? rule.record}`,
          expr: withBoolComparisons(rule.expr),
        })),
      ];
      expect(expressions.length).toBeGreaterThanOrEqual(12);
      const empty = async () => {
        const missing: string[] = [];
        for (const { name, expr } of expressions) {
          // A series whose value is NaN (a ratio or quantile over nothing) does not count.
          const series = await query(expr);
          if (!series.some((one) => Number.isFinite(Number(one.value[1])))) {
            missing.push(`${name}: ${expr}`);
          }
        }
        return missing;
      };
      // Series appear as scrapes come in: poll until all exist, then report any that never did.
      await waitFor(async () => (await empty()).length === 0, 30_000);
      expect(await empty()).toEqual([]);
      // The error ratio is 0 (no 5xx), not absent.
      const errorRatio = expressions.find((e) => e.name === 'alert HighErrorRatio')!;
      const ratio = errorRatio.expr.replace(/>\s*bool\s*0\.05\s*$/, '');
      expect(ratio).not.toBe(errorRatio.expr);
      expect((await query(ratio))[0]!.value[1]).toBe('0');
      // The cache counted what the responses said: one miss, then hits (two per round).
      const lookups = await query(`sum by (result) (http_cache_lookups_total{job="${NAME}"})`);
      const byResult = Object.fromEntries(lookups.map((s) => [s.metric.result, s.value[1]]));
      expect(byResult).toEqual({ hit: '5', miss: '1' });
    },
  );

  it.skipIf(!ready)('Prometheus loaded every rule and evaluates it without error', async () => {
    const res = await fetch(`${api}/api/v1/rules`);
    const body = (await res.json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const rules = body.data.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name)).toEqual([
      'HighErrorRatio',
      'HighLatencyP99',
      'InstanceDown',
      'EventLoopDelay',
      'LowCacheHitRatio',
      'ReplicaLag',
    ]);
    expect(
      await waitFor(async () => {
        const latest = (await (await fetch(`${api}/api/v1/rules`)).json()) as typeof body;
        return latest.data.groups.flatMap((g) => g.rules).every((r) => r.health === 'ok');
      }, 15_000),
    ).toBe(true);
  });

  it.skipIf(!ready)("the dashboard satisfies Grafana's published types", () => {
    const json = readFileSync(join(dir, 'monitoring/grafana/dashboards/app.json'), 'utf8');
    expect(dashboardTypeErrors([json], parent)).toEqual([[]]);
  });
});
