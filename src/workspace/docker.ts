import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { UsageError } from '../errors.js';
import { HAPROXY_IMAGE } from '../features/haproxy/feature.js';
import { NGINX_IMAGE, proxyHardening } from '../features/nginx/feature.js';
import { nodeMajor } from '../versions.js';
import type { WorkspaceService } from './manifest.js';
import { clientPackage, workspaceTemplates, type WorkspaceInput } from './render.js';
import { monitoringServices } from './monitoring.js';
import { workspaceCommands } from './package-managers.js';
import { featuresOf, renderAsSingleApp, urlVariable } from './service-project.js';

/**
 * Docker in a workspace: a Dockerfile per service (built from the root, so the shared client is
 * in the context) and one docker-compose.yml at the root with every service scaled on its own,
 * their shared Redis, and the gateway in front. Each service's entries are the single-app docker
 * feature's own (hardening, health check, environment), renamed after the service.
 */

type Doc = Record<string, unknown>;

/** The tag Compose and Kubernetes give each service's image: its package.json version. */
export const IMAGE_TAG = '0.1.0';

export const imageName = (workspace: string, service: string): string => `${workspace}-${service}`;

/** The single app's compose services a workspace does not take per service: the gateway
 * replaces its proxy, and one Prometheus and one Grafana serve every service (monitoring.ts). */
const leftOut = new Set(['nginx', 'haproxy', 'prometheus', 'grafana']);

/** Backing services the workspace runs once for all its services (cache keys and queues apart;
 * one OpenTelemetry Collector receives every service's spans, each under its service name). */
const shared = new Set(['redis', 'otel-collector']);

/**
 * Backing services each service gets its own copy of, named `<service>-<name>`: a database per
 * service (its tables and migrations are its own), with its own volumes and init scripts.
 */
const perService = new Set(['postgres', 'postgres-replica', 'migrate']);

/** The single app's references to its own backing services, renamed for `service`. */
function ownReferences(value: unknown, service: string): unknown {
  if (typeof value === 'string') {
    return value
      .replace(/@(postgres(?:-replica)?):/g, `@${service}-$1:`)
      .replace(/^(postgres(?:-replica)?-data):\//, `${service}-$1:/`)
      .replace(/^\.\/docker\//, `./services/${service}/docker/`);
  }
  if (Array.isArray(value)) return value.map((v) => ownReferences(v, service));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, ownReferences(v, service)]),
    );
  }
  return value;
}

export function gatewayOf(
  input: Pick<WorkspaceInput, 'deployment'>,
): 'nginx' | 'haproxy' | undefined {
  return input.deployment.find(
    (id): id is 'nginx' | 'haproxy' => id === 'nginx' || id === 'haproxy',
  );
}

/** services/<name>/Dockerfile. */
export async function serviceDockerfile(
  input: WorkspaceInput,
  service: WorkspaceService,
): Promise<string> {
  const single = await renderAsSingleApp(input, service, ['docker']);
  const features = new Set(featuresOf(input, service));
  const runtimeFiles = ['package.json'];
  if (features.has('pm2')) runtimeFiles.push('ecosystem.config.cjs');
  if (features.has('newrelic')) runtimeFiles.push('newrelic.cjs');
  const { default: ejs } = await import('ejs');
  // pnpm and Yarn: the same stages with their own commands (package-managers.ts).
  const file = input.packageManager === 'npm' ? 'Dockerfile.ejs' : 'Dockerfile-pnpm-yarn.ejs';
  const template = await readFile(join(workspaceTemplates(), 'docker', file), 'utf8');
  return ejs.render(template, {
    packageManager: input.packageManager,
    commands: workspaceCommands(
      input.packageManager,
      input.packageManagerVersion,
      service.name,
      clientPackage(input.name),
    ),
    service,
    workspace: input.name,
    clientPackage: clientPackage(input.name),
    nodeMajor,
    runtimeFiles,
    has: (id: string) => features.has(id),
    cmd: singleAppCmd(single.get('Dockerfile') ?? ''),
  });
}

/**
 * The start command of the single app's Dockerfile (CMD, exec form), so that both run exactly
 * the same process. PM2's binary is found in the root node_modules, where npm hoists it.
 */
export function singleAppCmd(dockerfile: string): string[] {
  const line = dockerfile.split('\n').findLast((l) => l.startsWith('CMD ['));
  if (!line)
    throw new Error('the single-app Dockerfile has no exec-form CMD: update workspace/docker.ts');
  const argv = JSON.parse(line.slice('CMD '.length)) as string[];
  return argv.map((arg) => arg.replace(/^node_modules\/\.bin\//, '/app/node_modules/.bin/'));
}

/**
 * The files the single app's compose mounts from its own folder (docker/postgres/*.sh), kept in
 * the service's folder: the root compose mounts them from services/<name>/docker/.
 */
export async function serviceComposeFiles(
  input: WorkspaceInput,
  service: WorkspaceService,
): Promise<Map<string, string>> {
  const single = await renderAsSingleApp(input, service, ['docker']);
  return new Map([...single].filter(([path]) => path.startsWith('docker/')));
}

export async function dockerignore(): Promise<string> {
  return readFile(join(workspaceTemplates(), 'docker', '_dockerignore'), 'utf8');
}

/** The root docker-compose.yml. */
export async function workspaceCompose(input: WorkspaceInput): Promise<string> {
  const gateway = gatewayOf(input);
  const services: Doc = {};
  // What each compose name stands for: a clash (a service called "redis") is refused, not merged.
  const owners = new Map<string, string>();
  const put = (name: string, value: unknown, owner: string): void => {
    const current = owners.get(name);
    if (current === owner && owner === 'shared') return;
    if (current !== undefined) {
      throw new UsageError(
        `A service cannot be named "${name}" in a workspace with docker: Compose already has a "${name}" service (${current === 'shared' ? 'a backing service' : current}).`,
      );
    }
    owners.set(name, owner);
    services[name] = value;
  };

  for (const service of input.services) {
    const single = await renderAsSingleApp(input, service, [
      'docker',
      ...(gateway ? [gateway] : []),
    ]);
    const own = (parse(single.get('docker-compose.yml') ?? '') as { services: Doc }).services;
    const renamed = (name: string): string =>
      name === 'app'
        ? service.name
        : name === 'worker' || perService.has(name)
          ? `${service.name}-${name}`
          : name;
    for (const [name, value] of Object.entries(own)) {
      if (leftOut.has(name)) continue;
      const entry = ownReferences(value, service.name) as Doc;
      // The replica finds its primary by host name (docker/postgres/replica-entrypoint.sh).
      const env = entry.environment as Record<string, string> | undefined;
      if (env?.PRIMARY_HOST === 'postgres') env.PRIMARY_HOST = `${service.name}-postgres`;
      if (entry.depends_on) {
        entry.depends_on = Object.fromEntries(
          Object.entries(entry.depends_on as Doc).map(([dep, v]) => [renamed(dep), v]),
        );
      }
      if (name === 'app' || name === 'worker' || name === 'migrate') {
        entry.build = { context: '.', dockerfile: `services/${service.name}/Dockerfile` };
        entry.image = `${imageName(input.name, service.name)}:${IMAGE_TAG}`;
        const environment = entry.environment as Record<string, string>;
        // One Redis for every service: each queue under its own name, or they would take
        // each other's jobs (cache keys are already apart: REDIS_KEY_PREFIX is the service's).
        if (featuresOf(input, service).includes('queue') && name !== 'migrate')
          environment.QUEUE_NAME = service.name;
        if (name === 'app') {
          for (const other of input.services) {
            if (other !== service)
              environment[urlVariable(other.name)] = `http://${other.name}:${other.port}`;
          }
        }
        put(
          renamed(name),
          entry,
          name === 'app' ? `the ${service.name} service` : `${service.name}'s ${name}`,
        );
      } else if (perService.has(name)) put(renamed(name), entry, `${service.name}'s ${name}`);
      else if (shared.has(name)) put(name, entry, 'shared');
      else {
        throw new Error(
          `the single app's compose has a "${name}" service the workspace does not place: update workspace/docker.ts`,
        );
      }
    }
  }
  // One Prometheus and one Grafana for every service with metrics (workspace/monitoring.ts).
  for (const [name, entry] of Object.entries(await monitoringServices(input)))
    put(name, entry, 'the monitoring');
  if (gateway) put('gateway', gatewayService(gateway, input.services), 'the gateway');
  const header = `# The ${input.name} workspace: each service is built from the root (services/<name>/Dockerfile)\n# and scaled on its own with deploy.replicas.  docker compose up --build\n`;
  // Named volumes (`name:/path`, not bind mounts) are declared at the top, as Compose requires.
  const volumes = [
    ...new Set(
      Object.values(services).flatMap(
        (service) =>
          ((service as Doc).volumes as unknown[] | undefined)?.flatMap((v) =>
            typeof v === 'string' ? (/^(\w[\w.-]*):\//.exec(v)?.[1] ?? []) : [],
          ) ?? [],
      ),
    ),
  ].sort();
  const doc = volumes.length
    ? { services, volumes: Object.fromEntries(volumes.map((v) => [v, {}])) }
    : { services };
  return header + stringify(doc, { lineWidth: 0, singleQuote: true, version: '1.1' });
}

/** The gateway in front of every service, with the config of gateway/; the one published port. */
function gatewayService(gateway: 'nginx' | 'haproxy', services: readonly WorkspaceService[]): Doc {
  const nginx = gateway === 'nginx';
  const port = 8080;
  return {
    image: nginx ? NGINX_IMAGE : HAPROXY_IMAGE,
    ports: [`8080:${port}`],
    // The single app's proxy hardening: unprivileged, read-only, no capabilities, bounded.
    ...(nginx ? proxyHardening('nginx', ['/tmp:size=64m']) : proxyHardening('haproxy', [])),
    volumes: [
      nginx
        ? './gateway/nginx.conf:/etc/nginx/nginx.conf:ro'
        : './gateway/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro',
    ],
    // Started once every service has a healthy instance; afterwards each is health-checked apart.
    depends_on: Object.fromEntries(services.map((s) => [s.name, { condition: 'service_healthy' }])),
    healthcheck: {
      test: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}/gateway-health`],
      interval: '10s',
      timeout: '3s',
      retries: 3,
    },
    restart: 'unless-stopped',
  };
}
