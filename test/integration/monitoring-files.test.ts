/**
 * The metrics feature's monitoring files, rendered in memory for several feature sets (no
 * install): Prometheus's own checker accepts the config and the rules, the dashboard satisfies
 * Grafana's published types, every file is as Prettier formats it (the generated `lint` runs
 * `prettier --check .`), and Compose runs Prometheus and Grafana privately. The e2e test
 * (test/e2e/monitoring.test.ts) proves the queries against a real Prometheus.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { format } from 'prettier';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { resolveFeatures } from '../../src/features/resolve.js';
import { renderProject, type FileTree } from '../../src/render/render.js';
import { binaryPath } from '../helpers/binaries.js';
import { assertValidCompose } from '../helpers/compose-schema.js';
import {
  dashboardQueries,
  dashboardTypeErrors,
  rulesOf,
  type DashboardJson,
} from '../helpers/monitoring.js';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir('cse-monitoring-files-');
const variants: Record<string, string[]> = {
  alone: ['metrics'],
  everything: ['metrics', 'redis', 'postgres', 'docker', 'kubernetes', 'nginx', 'cluster'],
};

async function render(variant: string): Promise<{ tree: FileTree; dir: string }> {
  const features = resolveFeatures(variants[variant]!);
  const tree = await renderProject({
    name: 'watched',
    port: 3000,
    packageManager: 'npm',
    features,
  });
  const dir = join(parent, variant);
  for (const [path, content] of tree) {
    if (!path.startsWith('monitoring/') && !path.startsWith('k8s/')) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return { tree, dir };
}

interface Service {
  image: string;
  ports: string[];
  volumes: string[];
  environment: Record<string, string>;
}

const monitoringFiles = (tree: FileTree): string[] =>
  [...tree.keys()].filter((p) => p.startsWith('monitoring/') || p.startsWith('k8s/monitoring/'));

describe.each(Object.keys(variants))('monitoring files (%s)', (variant) => {
  it('pass promtool check config and check rules', async () => {
    const { dir } = await render(variant);
    const promtool = binaryPath('promtool');
    if (!promtool) return; // not installed locally (under CI=true binaryPath throws)
    const config = await execa(promtool, ['check', 'config', 'monitoring/prometheus.yml'], {
      cwd: dir,
      reject: false,
      all: true,
    });
    expect(config.exitCode, config.all).toBe(0);
    // check config also checks the rule files it names: alerts.yml is one.
    expect(config.all).toContain('alerts.yml');
    const rules = await execa(promtool, ['check', 'rules', 'monitoring/alerts.yml'], {
      cwd: dir,
      reject: false,
      all: true,
    });
    expect(rules.exitCode, rules.all).toBe(0);
  });

  it('has alerts and dashboard panels for exactly the installed features', async () => {
    const { tree } = await render(variant);
    const alerts = rulesOf(tree.get('monitoring/alerts.yml')!).map((r) => r.alert);
    const dashboard = JSON.parse(
      tree.get('monitoring/grafana/dashboards/app.json')!,
    ) as DashboardJson;
    const queries = dashboardQueries(dashboard).map((q) => q.expr);
    const has = (id: string) => variants[variant]!.includes(id);
    expect(alerts.slice(0, 4)).toEqual([
      'HighErrorRatio',
      'HighLatencyP99',
      'InstanceDown',
      'EventLoopDelay',
    ]);
    expect(alerts.includes('LowCacheHitRatio')).toBe(has('redis'));
    expect(alerts.includes('ReplicaLag')).toBe(has('postgres'));
    expect(queries.some((q) => q.includes('http_cache_lookups_total'))).toBe(has('redis'));
    expect(queries.some((q) => q.includes('db_replica_lag_seconds'))).toBe(has('postgres'));
    // Every query is about this project's job only.
    for (const expr of queries) expect(expr).toContain('job="watched"');
    // The README explains every alert the rules define.
    const readme = tree.get('README.md')!;
    for (const alert of alerts) expect(readme).toContain(`| \`${alert}\` |`);
  });

  it("satisfies Grafana's dashboard types (@grafana/schema)", async () => {
    const { tree, dir } = await render(variant);
    const json = tree.get('monitoring/grafana/dashboards/app.json')!;
    expect(dashboardTypeErrors([json], dir)).toEqual([[]]);
  });

  it('is formatted as Prettier formats it', async () => {
    const { tree } = await render(variant);
    const options = JSON.parse(tree.get('.prettierrc.json')!) as Record<string, unknown>;
    for (const path of monitoringFiles(tree)) {
      const content = tree.get(path)!;
      expect(await format(content, { ...options, filepath: path }), path).toBe(content);
    }
  });
});

describe('the dashboard type check', () => {
  it('rejects a misspelt key, a missing required field and a wrong type', () => {
    const dir = tempDir('cse-dashboard-types-');
    const valid = { schemaVersion: 42, title: 't', panels: [] };
    const broken = [
      { ...valid, refrsh: '30s' },
      { title: 't', panels: [] },
      { ...valid, panels: [{ type: 'timeseries', gridPos: { h: '8', w: 12, x: 0, y: 0 } }] },
      { ...valid, panels: [{ type: 'timeseries', targets: [{ expr: 'up' }] }] },
    ];
    const errors = dashboardTypeErrors(
      [valid, ...broken].map((d) => JSON.stringify(d)),
      dir,
    );
    expect(errors[0]).toEqual([]);
    errors.slice(1).forEach((list, i) => {
      expect(list, JSON.stringify(broken[i])).not.toEqual([]);
    });
  });
});

describe('Compose with metrics', () => {
  it('runs Prometheus and Grafana on loopback, pinned, read-only config, password required', async () => {
    const { tree } = await render('everything');
    const compose = parse(tree.get('docker-compose.yml')!) as { services: Record<string, Service> };
    assertValidCompose(compose);
    const { prometheus, grafana, app } = compose.services;
    expect(app!.environment.METRICS_PORT).toBe('9464');
    for (const service of [prometheus!, grafana!]) {
      expect(service.image).toMatch(/:v?\d+\.\d+\.\d+$/);
      for (const port of service.ports) expect(port).toMatch(/^127\.0\.0\.1:/);
      for (const volume of service.volumes) {
        if (!volume.startsWith('./')) continue;
        expect(volume).toMatch(/:ro$/);
        // Each mounted file or folder is one the project has.
        const source = volume.slice(2, volume.indexOf(':'));
        expect(
          [...tree.keys()].some((p) => p === source || p.startsWith(`${source}/`)),
          source,
        ).toBe(true);
      }
    }
    // The dashboard is checked against @grafana/schema: Compose runs the Grafana of that version.
    const schema = createRequire(import.meta.url)('@grafana/schema/package.json') as {
      version: string;
    };
    expect(grafana!.image).toBe(`grafana/grafana:${schema.version}`);
    expect(grafana!.environment.GF_SECURITY_ADMIN_PASSWORD).toMatch(
      /^\$\{GRAFANA_ADMIN_PASSWORD:\?.+\}$/,
    );
    // Debian's docker-compose (a client: `config` needs no engine) resolves the file with the
    // passwords set, and refuses it without Grafana's.
    const dockerCompose = binaryPath('docker-compose');
    if (dockerCompose) {
      const dir = join(parent, 'everything');
      writeFileSync(join(dir, 'docker-compose.yml'), tree.get('docker-compose.yml')!);
      const env = {
        PATH: process.env.PATH ?? '',
        REDIS_PASSWORD: 'r'.repeat(32),
        POSTGRES_PASSWORD: 'p'.repeat(32),
        POSTGRES_REPLICATION_PASSWORD: 'q'.repeat(32),
      };
      const run = (extra: Record<string, string>) =>
        execa(dockerCompose, ['config', '-q'], {
          cwd: dir,
          env: { ...env, ...extra },
          extendEnv: false,
          reject: false,
        });
      const ok = await run({ GRAFANA_ADMIN_PASSWORD: 'g'.repeat(32) });
      expect(ok.exitCode, ok.stderr).toBe(0);
      const refused = await run({});
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/set GRAFANA_ADMIN_PASSWORD/);
    }
    // The config scrapes every replica of the app service on the metrics port.
    const config = parse(tree.get('monitoring/prometheus.yml')!) as {
      scrape_configs: { dns_sd_configs?: unknown }[];
    };
    expect(config.scrape_configs[0]!.dns_sd_configs).toEqual([
      { names: ['app'], type: 'A', port: 9464, refresh_interval: '30s' },
    ]);
  });
});

describe('Kubernetes with metrics', () => {
  it('pods announce their metrics port; the monitoring component adds a PodMonitor for them', async () => {
    const { tree, dir } = await render('everything');
    const deployment = parse(tree.get('k8s/deployment.yaml')!) as {
      spec: { template: { metadata: PodMeta; spec: { containers: { ports: Port[] }[] } } };
    };
    const pod = deployment.spec.template;
    const metricsPort = pod.spec.containers[0]!.ports.find((p) => p.name === 'metrics')!;
    expect(pod.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(metricsPort.containerPort),
      'prometheus.io/path': '/metrics',
    });
    // Out of the default build: kustomization.yaml lists it commented out, under components.
    const kustomization = tree.get('k8s/kustomization.yaml')!;
    expect(parse(kustomization)).not.toHaveProperty('components');
    const kubectl = binaryPath('kubectl');
    if (!kubectl) return; // not installed locally (under CI=true binaryPath throws)
    // As the user enables it: uncomment `components:` and its `monitoring` line.
    const enabled = kustomization
      .replace('# components:', 'components:')
      .replace(/^# {3}- monitoring/m, '  - monitoring');
    expect(enabled).not.toBe(kustomization);
    writeFileSync(join(dir, 'k8s/kustomization.yaml'), enabled);
    const { stdout } = await execa(kubectl, ['kustomize', join(dir, 'k8s')], { timeout: 60_000 });
    const monitors = parseAllDocuments(stdout)
      .map((doc) => doc.toJS() as { kind: string; spec: PodMonitorSpec })
      .filter((o) => o.kind === 'PodMonitor');
    expect(monitors).toHaveLength(1);
    const spec = monitors[0]!.spec;
    expect(spec.selector.matchLabels).toEqual(
      Object.fromEntries(
        Object.entries(pod.metadata.labels).filter(([key]) => key in spec.selector.matchLabels),
      ),
    );
    expect(Object.keys(spec.selector.matchLabels).length).toBeGreaterThan(0);
    expect(spec.podMetricsEndpoints).toEqual([
      { port: metricsPort.name, path: '/metrics', interval: '15s' },
    ]);
  });
});

interface PodMeta {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Port {
  name: string;
  containerPort: number;
}
interface PodMonitorSpec {
  selector: { matchLabels: Record<string, string> };
  podMetricsEndpoints: Record<string, string>[];
}
