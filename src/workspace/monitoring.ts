import { parse, stringify } from 'yaml';
import type { WorkspaceService } from './manifest.js';
import type { WorkspaceInput } from './render.js';
import { featuresOf, renderAsSingleApp } from './service-project.js';

/**
 * Prometheus and Grafana for a workspace with docker: one of each at the root for every service
 * that has `metrics`. Nothing here is written anew: each service is rendered as the single app
 * with docker (the metrics feature's own monitoring files and compose entries), and the workspace
 * gathers them: every service's scrape job (its Compose name, its METRICS_PORT), its alert rules
 * and its dashboard, mounted from services/<name>/monitoring/ (yours to edit there).
 *
 * Prometheus sees the workspace's layout under /etc/prometheus, so the rule files' relative paths
 * in monitoring/prometheus.yml hold both at the root (promtool check config) and in the container.
 */

type Doc = Record<string, unknown>;

const CONFIG_DIR = '/etc/prometheus';
const DASHBOARDS_DIR = '/etc/grafana/dashboards';
const PROVISIONING = 'monitoring/grafana/provisioning/';

interface Monitored {
  service: WorkspaceService;
  files: Map<string, string>;
}

/** Every service with `metrics`, rendered as the single app with docker. */
async function monitored(input: WorkspaceInput): Promise<Monitored[]> {
  if (!input.deployment.includes('docker')) return [];
  const found: Monitored[] = [];
  for (const service of input.services) {
    if (!featuresOf(input, service).includes('metrics')) continue;
    found.push({ service, files: await renderAsSingleApp(input, service, ['docker']) });
  }
  return found;
}

const alertsOf = (service: WorkspaceService): string =>
  `services/${service.name}/monitoring/alerts.yml`;

/** The root's monitoring/ files: prometheus.yml and Grafana's provisioning (none without metrics). */
export async function workspaceMonitoring(input: WorkspaceInput): Promise<Map<string, string>> {
  const all = await monitored(input);
  const first = all[0];
  if (!first) return new Map();
  const files = new Map<string, string>();
  // The datasource (the Compose service `prometheus`) and the dashboards provider: the same for
  // every service, so the first one's.
  for (const [path, content] of first.files) {
    if (path.startsWith(PROVISIONING)) files.set(path, content);
  }
  const config = parse(first.files.get('monitoring/prometheus.yml') ?? '') as Doc;
  const jobs = all.flatMap(({ service, files: own }) => {
    const single = parse(own.get('monitoring/prometheus.yml') ?? '') as { scrape_configs: Doc[] };
    return single.scrape_configs.map((job) => renameApp(job, service.name));
  });
  const doc = {
    global: config.global,
    rule_files: all.map(({ service }) => `../${alertsOf(service)}`),
    scrape_configs: jobs,
  };
  const header = [
    `# Prometheus for the ${input.name} workspace: every instance of each service with metrics (its`,
    "# Compose service's addresses, its METRICS_PORT) and each one's alert rules, from",
    '# services/<name>/monitoring/alerts.yml. Generated from the services: add or remove metrics in',
    '# one and this file follows. Check it with `promtool check config monitoring/prometheus.yml`.',
  ];
  files.set(
    'monitoring/prometheus.yml',
    `${header.join('\n')}\n${stringify(doc, { lineWidth: 0, singleQuote: true })}`,
  );
  return files;
}

/** The single app's job scrapes the Compose service `app`: in the workspace it is the service. */
function renameApp(job: Doc, service: string): Doc {
  const sd = (job.dns_sd_configs as Doc[] | undefined)?.map((entry) => ({
    ...entry,
    names: (entry.names as string[]).map((name) => (name === 'app' ? service : name)),
  }));
  if (!sd) {
    throw new Error(
      "the single app's prometheus.yml with docker has no dns_sd_configs: update workspace/monitoring.ts",
    );
  }
  return { ...job, dns_sd_configs: sd };
}

/** The root compose's `prometheus` and `grafana`: the metrics feature's entries, re-pointed. */
export async function monitoringServices(input: WorkspaceInput): Promise<Doc> {
  const all = await monitored(input);
  const first = all[0];
  if (!first) return {};
  const single = (parse(first.files.get('docker-compose.yml') ?? '') as { services: Doc }).services;
  const prometheus = { ...(single.prometheus as Doc) };
  const grafana = { ...(single.grafana as Doc) };
  const dependsOn = Object.fromEntries(
    all.map(({ service }) => [service.name, { condition: 'service_started' }]),
  );
  prometheus.command = (prometheus.command as string[]).map((arg) =>
    arg.startsWith('--config.file=')
      ? `--config.file=${CONFIG_DIR}/monitoring/prometheus.yml`
      : arg,
  );
  prometheus.volumes = [
    `./monitoring/prometheus.yml:${CONFIG_DIR}/monitoring/prometheus.yml:ro`,
    ...all.map(({ service }) => `./${alertsOf(service)}:${CONFIG_DIR}/${alertsOf(service)}:ro`),
    ...anonymous(prometheus.volumes),
  ];
  prometheus.depends_on = dependsOn;
  // Grafana's file provider reads its folder recursively: one subfolder per service.
  grafana.volumes = [
    `./${PROVISIONING.slice(0, -1)}:/etc/grafana/provisioning:ro`,
    ...all.map(
      ({ service }) =>
        `./services/${service.name}/monitoring/grafana/dashboards:${DASHBOARDS_DIR}/${service.name}:ro`,
    ),
    ...anonymous(grafana.volumes),
  ];
  return { prometheus, grafana };
}

/** The entry's anonymous volumes (its data), kept as the single app has them. */
const anonymous = (volumes: unknown): string[] =>
  ((volumes as string[] | undefined) ?? []).filter((v) => v.startsWith('/'));
