/**
 * Docker and Kubernetes in a workspace, in memory: the root docker-compose.yml (Compose schema,
 * each service scaled and built on its own, URLs and gateway hosts that are compose names), each
 * service's Dockerfile (built from the root, only its own and the client's workspaces, the single
 * app's hardening), and the Kubernetes manifests (kubernetes-models, one Ingress path per service
 * that strips the prefix as the gateway does). Nothing is installed; kubectl builds the
 * kustomization where present (required under CI).
 */
import type { Copy } from 'dockerfile-ast';
import { hardenedProxy } from '../helpers/proxies.js';
import { execa } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../../src/errors.js';
import { presetFeatures } from '../../src/features/presets.js';
import { splitWorkspaceFeatures } from '../../src/options/services.js';
import { planWorkspace, renderRoot, withPorts } from '../../src/workspace/render.js';
import { binaryPath, hasBinary } from '../helpers/binaries.js';
import { assertValidCompose } from '../helpers/compose-schema.js';
import { execForm, parseStages } from '../helpers/dockerfile.js';
import { parseDockerIgnore } from '../helpers/dockerignore.js';
import { parseYamlDocuments, validateK8sObject, type K8sObject } from '../helpers/k8s.js';
import { tempDir } from '../helpers/tmp.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML, checked by the assertions */

const NAMES = ['users', 'payments', 'order-items'];

async function plan(features: string[], deployment: string[], names = NAMES) {
  const { changes } = await planWorkspace({
    directory: '/nonexistent/cse-workspace-deploy-unit',
    name: 'shop',
    port: 3000,
    packageManager: 'npm',
    packageManagerVersion: '11.6.0',
    services: withPorts(names, 3000),
    features,
    deployment,
    force: false,
  });
  const files = new Map(changes.map((c) => [c.path, String(c.content)]));
  const file = (path: string): string => {
    const content = files.get(path);
    if (content === undefined) throw new Error(`no ${path} planned`);
    return content;
  };
  return { files, file };
}

/** Writes the planned files to a fresh folder (for docker-compose and kubectl). */
/** Every COPY of every service's Dockerfile (not --from) names files the build context sends. */
function expectCopiesInContext(files: Map<string, string>, names = NAMES): void {
  const ignore = parseDockerIgnore(files.get('.dockerignore') ?? '');
  const paths = [...files.keys()];
  for (const name of names) {
    for (const stage of parseStages(files.get(`services/${name}/Dockerfile`) ?? '')) {
      for (const copy of stage.instructions.filter((i) => i.getKeyword() === 'COPY')) {
        if ((copy as Copy).getFromFlag()) continue;
        const args = copy.getArguments().map((a) => a.getValue());
        for (const source of args.filter((a) => !a.startsWith('--')).slice(0, -1)) {
          if (source === 'package-lock.json') continue; // made by the install at the root
          const inContext = paths.filter(
            (p) => (p === source || p.startsWith(`${source}/`)) && !ignore.ignores(p),
          );
          expect(inContext.length, `${name}: COPY ${source}`).toBeGreaterThan(0);
        }
      }
    }
  }
}

/**
 * Every name the compose file refers to is one of its services (depends_on, the hosts of the
 * services' URLs), every bind mount's source is a planned file, every named volume is declared.
 */
function expectConsistentCompose(
  doc: { services: Record<string, any>; volumes?: Record<string, unknown> },
  files: Map<string, string>,
): void {
  const names = Object.keys(doc.services);
  for (const [name, service] of Object.entries(doc.services)) {
    for (const dep of Object.keys(service.depends_on ?? {}))
      expect(names, `${name} depends on ${dep}`).toContain(dep);
    for (const [key, value] of Object.entries(
      (service.environment ?? {}) as Record<string, string>,
    )) {
      if (!/_URLS?$/.test(key)) continue;
      const host = /^\w+:\/\/(?:[^@/]*@)?([\w-]+)/.exec(value)?.[1];
      expect(names, `${name}: ${key}=${value}`).toContain(host);
    }
    for (const volume of (service.volumes ?? []) as string[]) {
      const [source] = volume.split(':');
      // A bind mount's source: a planned file, or a folder of planned files.
      const path = source!.slice(2);
      if (source!.startsWith('./'))
        expect(
          files.has(path) || [...files.keys()].some((p) => p.startsWith(`${path}/`)),
          `${name}: ${volume}`,
        ).toBe(true);
      else if (!source!.startsWith('/')) expect(Object.keys(doc.volumes ?? {})).toContain(source);
    }
  }
}

function writeOut(files: Map<string, string>): string {
  const dir = tempDir('cse-wsdeploy-');
  for (const [path, content] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('docker in a workspace', async () => {
  const nginx = await plan(['redis', 'queue', 'metrics'], ['docker', 'nginx', 'kubernetes']);
  const compose = parseYaml(nginx.file('docker-compose.yml')) as { services: Record<string, any> };
  const services = compose.services;

  it('writes a valid Compose file: every service built from the root with its own Dockerfile and replicas', () => {
    assertValidCompose(compose);
    expectConsistentCompose(compose, nginx.files);
    for (const [i, name] of NAMES.entries()) {
      const service = services[name];
      expect(service.build).toEqual({ context: '.', dockerfile: `services/${name}/Dockerfile` });
      expect(nginx.files.has(`services/${name}/Dockerfile`)).toBe(true);
      expect(service.image).toBe(`shop-${name}:0.1.0`);
      expect(service.deploy.replicas).toBeGreaterThan(1);
      expect(service.environment.PORT).toBe(String(3000 + i));
      // The single app's hardening, unchanged.
      expect(service).toMatchObject({ init: true, read_only: true, cap_drop: ['ALL'] });
      expect(service.healthcheck.test.join(' ')).toContain(`127.0.0.1:${3000 + i}/healthz`);
      // Behind the gateway: no host port of its own, the gateway is the one proxy.
      expect(service.ports).toBeUndefined();
      expect(service.environment.TRUST_PROXY).toBe('1');
    }
    // The gateway replaces each app's own proxy; one Prometheus and one Grafana serve them all.
    for (const absent of ['app', 'worker', 'nginx', 'haproxy'])
      expect(services[absent], absent).toBeUndefined();
    for (const name of NAMES) {
      for (const own of ['prometheus', 'grafana'])
        expect(services[`${name}-${own}`], `${name}-${own}`).toBeUndefined();
    }
  });

  it('points each service at the others by compose name and port, never at itself', () => {
    for (const name of NAMES) {
      const env = services[name].environment as Record<string, string>;
      const urls = Object.entries(env).filter(
        ([key]) => key.endsWith('_URL') && key !== 'REDIS_URL',
      );
      const others = NAMES.filter((n) => n !== name);
      expect(Object.fromEntries(urls)).toEqual(
        Object.fromEntries(
          others.map((other) => [
            `${other.toUpperCase().replace(/-/g, '_')}_URL`,
            `http://${other}:${services[other].environment.PORT}`,
          ]),
        ),
      );
    }
  });

  it('shares one Redis, with a worker and a queue name per service', () => {
    expect(Object.keys(services).filter((k) => k.startsWith('redis'))).toEqual(['redis']);
    const queues = NAMES.map((name) => {
      const worker = services[`${name}-worker`];
      expect(worker.build.dockerfile).toBe(`services/${name}/Dockerfile`);
      expect(worker.environment.QUEUE_NAME).toBe(services[name].environment.QUEUE_NAME);
      expect(services[name].depends_on).toEqual({ redis: { condition: 'service_healthy' } });
      return worker.environment.QUEUE_NAME as string;
    });
    // One queue name each: a shared name would let one service's worker take another's jobs.
    expect(new Set(queues).size).toBe(NAMES.length);
  });

  it('puts the gateway in front: its config routes to the compose names and ports', () => {
    const gateway = services.gateway;
    expect(gateway.volumes).toEqual(['./gateway/nginx.conf:/etc/nginx/nginx.conf:ro']);
    // Hardened as the single app's proxy: it listens where it can bind without privileges.
    expect(gateway.ports).toEqual(['8080:8080']);
    expect(nginx.file('gateway/nginx.conf')).toMatch(/^\s*listen 8080 default_server;$/m);
    expect(gateway).toMatchObject({ ...hardenedProxy('nginx'), tmpfs: ['/tmp:size=64m'] });
    // Everything nginx writes is in that tmpfs (pid file, temp paths).
    const writes = [
      ...nginx.file('gateway/nginx.conf').matchAll(/^\s*(?:pid|\w+_temp_path) (\S+);$/gm),
    ];
    expect(writes.length).toBe(6);
    for (const [, path] of writes) expect(path).toMatch(/^\/tmp\//);
    expect(Object.keys(gateway.depends_on)).toEqual(NAMES);
    const servers = [...nginx.file('gateway/nginx.conf').matchAll(/server ([\w-]+):(\d+) /g)];
    expect(servers.map(([, host, port]) => [host, port])).toEqual(
      NAMES.map((name) => [name, services[name].environment.PORT]),
    );
  });

  it('with HAProxy: the gateway runs gateway/haproxy.cfg, whose servers are the compose names', async () => {
    const haproxy = await plan([], ['docker', 'haproxy']);
    const doc = parseYaml(haproxy.file('docker-compose.yml')) as { services: Record<string, any> };
    assertValidCompose(doc);
    expect(doc.services.gateway.volumes).toEqual([
      './gateway/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro',
    ]);
    expect(doc.services.gateway.healthcheck.test).toContain('http://127.0.0.1:8080/gateway-health');
    expect(doc.services.gateway).toMatchObject(hardenedProxy('haproxy'));
    expect(doc.services.gateway.tmpfs).toBeUndefined();
    const servers = [
      ...haproxy.file('gateway/haproxy.cfg').matchAll(/server-template \S+ \S+ ([\w-]+):(\d+) /g),
    ];
    expect(servers.map(([, host, port]) => [host, port])).toEqual(
      NAMES.map((name) => [name, doc.services[name].environment.PORT]),
    );
    expect(doc.services.redis).toBeUndefined();
  });

  it('without a gateway: each service publishes its own port', async () => {
    const alone = await plan([], ['docker']);
    const doc = parseYaml(alone.file('docker-compose.yml')) as { services: Record<string, any> };
    assertValidCompose(doc);
    expect(doc.services.gateway).toBeUndefined();
    for (const [i, name] of NAMES.entries()) {
      expect(doc.services[name].ports).toEqual([`${3000 + i}:${3000 + i}`]);
      expect(doc.services[name].environment.TRUST_PROXY).toBeUndefined();
    }
  });

  it('a Dockerfile per service: its own and the client’s workspaces only, non-root, health check, exec form', () => {
    for (const name of NAMES) {
      const text = nginx.file(`services/${name}/Dockerfile`);
      const stages = parseStages(text);
      expect(stages.map((s) => s.name)).toEqual(['base', 'deps', 'build', 'prod-deps', 'runtime']);
      const runs = stages.flatMap((s) =>
        s.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent()),
      );
      const only = `--workspace packages/service-client --workspace services/${name}`;
      expect(runs).toEqual([
        `npm ci ${only}`,
        `npm run build ${only}`,
        `npm ci --omit=dev ${only} && mkdir -p packages/service-client/node_modules services/${name}/node_modules`,
      ]);
      const runtime = stages.at(-1)!.instructions;
      const one = (keyword: string) => runtime.filter((i) => i.getKeyword() === keyword);
      expect(one('USER').map((i) => i.getArgumentsContent())).toEqual(['node']);
      expect(one('WORKDIR').map((i) => i.getArgumentsContent())).toEqual([`/app/services/${name}`]);
      expect(execForm(one('CMD')[0]!)).toEqual(['node', 'dist/main.js']);
      expect(execForm(one('HEALTHCHECK')[0]!).join(' ')).toContain('/healthz');
    }
  });

  it('copies only what the build context has: each COPY source is planned (or the lockfile) and not ignored', () => {
    const ignore = parseDockerIgnore(nginx.file('.dockerignore'));
    expectCopiesInContext(nginx.files);
    // Sources compile in the image: the client's and the services' src/ are sent, builds are not.
    expect(ignore.ignores('packages/service-client/src/index.ts')).toBe(false);
    expect(ignore.ignores('services/users/src/main.ts')).toBe(false);
    for (const made of [
      'services/users/node_modules/x',
      'packages/service-client/dist/index.js',
      'services/users/.env',
    ])
      expect(ignore.ignores(made), made).toBe(true);
  });

  it('starts PM2 from the root node_modules, where npm hoists it', async () => {
    const pm2 = await plan(['pm2'], ['docker'], ['users']);
    const runtime = parseStages(pm2.file('services/users/Dockerfile')).at(-1)!.instructions;
    const cmd = runtime.find((i) => i.getKeyword() === 'CMD')!;
    expect(execForm(cmd)).toEqual(['/app/node_modules/.bin/pm2-runtime', 'ecosystem.config.cjs']);
    expect(pm2.file('services/users/Dockerfile')).toContain(
      'COPY services/users/package.json services/users/ecosystem.config.cjs /app/services/users/',
    );
  });

  it.each([
    ['redis', ['redis'], /"redis".*Compose already has a "redis" service/],
    ['gateway', [], /"gateway".*the gateway/],
  ])(
    'refuses a service named %s that would clash with a compose service (one line)',
    async (name, features, message) => {
      let error: unknown;
      try {
        await plan(features, ['docker', 'nginx'], ['users', name]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    },
  );

  it.skipIf(!hasBinary('docker-compose'))(
    'docker-compose config accepts the file',
    async () => {
      const dir = writeOut(nginx.files);
      const result = await execa('docker-compose', ['config', '-q'], {
        cwd: dir,
        env: { REDIS_PASSWORD: 'unit-test-password', GRAFANA_ADMIN_PASSWORD: 'unit-test-grafana' },
        reject: false,
      });
      expect(result.exitCode, result.stderr).toBe(0);
    },
    30_000,
  );
});

describe('Prometheus and Grafana in a workspace', async () => {
  const metrics = await plan(['metrics'], ['docker', 'nginx']);
  const compose = parseYaml(metrics.file('docker-compose.yml')) as {
    services: Record<string, any>;
  };
  const { prometheus, grafana } = compose.services;

  it('one Prometheus scrapes every instance of every service on its METRICS_PORT, with its alerts', () => {
    assertValidCompose(compose);
    expectConsistentCompose(compose, metrics.files);
    const config = parseYaml(metrics.file('monitoring/prometheus.yml')) as any;
    expect(config.scrape_configs.map((job: any) => job.job_name)).toEqual(NAMES);
    for (const [i, name] of NAMES.entries()) {
      const job = config.scrape_configs[i];
      // The single app's job: its service's compose name resolves to one address per replica.
      expect(job.dns_sd_configs).toEqual([
        { names: [name], type: 'A', port: 9464, refresh_interval: '30s' },
      ]);
      expect(compose.services[name].environment.METRICS_PORT).toBe('9464');
      expect(config.rule_files).toContain(`../services/${name}/monitoring/alerts.yml`);
      // Mounted where that relative path leads from the config inside the container.
      expect(prometheus.volumes).toContain(
        `./services/${name}/monitoring/alerts.yml:/etc/prometheus/services/${name}/monitoring/alerts.yml:ro`,
      );
      expect(grafana.volumes).toContain(
        `./services/${name}/monitoring/grafana/dashboards:/etc/grafana/dashboards/${name}:ro`,
      );
    }
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/monitoring/prometheus.yml');
    expect(prometheus.volumes).toContain(
      './monitoring/prometheus.yml:/etc/prometheus/monitoring/prometheus.yml:ro',
    );
    expect(Object.keys(prometheus.depends_on)).toEqual(NAMES);
    // Published on loopback only, as in the single app.
    for (const entry of [prometheus, grafana])
      expect(entry.ports.every((p: string) => p.startsWith('127.0.0.1:'))).toBe(true);
    expect(metrics.files.has('monitoring/grafana/provisioning/datasources/prometheus.yml')).toBe(
      true,
    );
  });

  it('none without metrics', async () => {
    const plain = await plan(['redis'], ['docker', 'nginx']);
    const doc = parseYaml(plain.file('docker-compose.yml')) as { services: object };
    expect(Object.keys(doc.services)).not.toContain('prometheus');
    expect([...plain.files.keys()].filter((p) => p.startsWith('monitoring/'))).toEqual([]);
  });

  it('promtool check config accepts the root prometheus.yml and every rule file it names', async () => {
    const promtool = binaryPath('promtool');
    if (!promtool) return; // not installed locally (under CI=true binaryPath throws)
    const dir = writeOut(metrics.files);
    const result = await execa(promtool, ['check', 'config', 'monitoring/prometheus.yml'], {
      cwd: dir,
      reject: false,
      all: true,
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain(`SUCCESS: ${NAMES.length} rule files found`);
  });

  it('docker-compose config accepts the file', async () => {
    const dockerCompose = binaryPath('docker-compose');
    if (!dockerCompose) return;
    const dir = writeOut(metrics.files);
    const result = await execa(dockerCompose, ['config', '-q'], {
      cwd: dir,
      env: { GRAFANA_ADMIN_PASSWORD: 'unit-test-grafana' },
      reject: false,
    });
    expect(result.exitCode, result.stderr).toBe(0);
  }, 30_000);
});

describe('kubernetes in a workspace', async () => {
  const { files, file } = await plan(['redis', 'queue'], ['kubernetes']);

  it('gives each service the single app’s manifests, all valid, and the root gathers them', () => {
    const root = parseYaml(file('k8s/kustomization.yaml')) as { resources: string[] };
    expect(root.resources).toEqual([...NAMES.map((n) => `../services/${n}/k8s`), 'ingress.yaml']);
    for (const name of NAMES) {
      const own = parseYaml(file(`services/${name}/k8s/kustomization.yaml`)) as {
        resources: string[];
        components?: unknown;
      };
      const kinds: string[] = [];
      for (const resource of own.resources) {
        for (const doc of parseYamlDocuments(file(`services/${name}/k8s/${resource}`), resource)) {
          const object = validateK8sObject(doc, resource);
          if (object.metadata.name === name) kinds.push(object.kind);
        }
      }
      expect(kinds.sort()).toEqual([
        'Deployment',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
        'Service',
      ]);
      // The single app's own Ingress is replaced by the workspace's.
      expect(own.components).toBeUndefined();
      expect([...files.keys()].some((p) => p.startsWith(`services/${name}/k8s/ingress/`))).toBe(
        false,
      );
    }
  });

  it('one Ingress with a path per service that strips the prefix, as the gateway does', () => {
    const [doc] = parseYamlDocuments(file('k8s/ingress.yaml'), 'ingress.yaml');
    const ingress = validateK8sObject(doc, 'ingress.yaml') as any;
    const rewrite = ingress.metadata.annotations[
      'nginx.ingress.kubernetes.io/rewrite-target'
    ] as string;
    const paths = ingress.spec.rules[0].http.paths as any[];
    expect(paths.map((p) => p.backend.service.name)).toEqual(NAMES);
    // What ingress-nginx does with each path: the regex's groups fill rewrite-target.
    const route = (url: string): [string, string] | undefined => {
      for (const path of paths) {
        const match = new RegExp(`^${path.path as string}`).exec(url);
        if (match)
          return [
            path.backend.service.name,
            rewrite.replace(/\$(\d)/g, (_m, n: string) => match[Number(n)] ?? ''),
          ];
      }
      return undefined;
    };
    expect(route('/users/api/users/1')).toEqual(['users', '/api/users/1']);
    expect(route('/order-items/readyz')).toEqual(['order-items', '/readyz']);
    expect(route('/payments')).toEqual(['payments', '/']);
    expect(route('/usersx/api')).toBeUndefined();
  });

  it.skipIf(!hasBinary('kubectl'))(
    'kubectl kustomize builds it: valid objects, images, URLs of existing Services, TRUST_PROXY',
    async () => {
      const dir = writeOut(files);
      const { stdout } = await execa('kubectl', ['kustomize', join(dir, 'k8s')]);
      const objects: K8sObject[] = parseYamlDocuments(stdout, 'kustomize').map((doc) =>
        validateK8sObject(doc, 'kustomize'),
      );
      const named = (kind: string) =>
        new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o as any]));
      const deployments = named('Deployment');
      const servicesByName = named('Service');
      const configs = named('ConfigMap');
      for (const name of NAMES) {
        expect(deployments.get(name).spec.template.spec.containers[0].image).toBe(
          `shop-${name}:0.1.0`,
        );
        expect(deployments.get(`${name}-worker`).spec.template.spec.containers[0].image).toBe(
          `shop-${name}:0.1.0`,
        );
        expect(deployments.get(name).metadata.labels['app.kubernetes.io/part-of']).toBe('shop');
        const data = configs.get(`${name}-config`).data as Record<string, string>;
        expect(data.TRUST_PROXY).toBe('1');
        for (const other of NAMES.filter((n) => n !== name)) {
          const url = new URL(data[`${other.toUpperCase().replace(/-/g, '_')}_URL`]!);
          const target = servicesByName.get(url.hostname);
          expect(target, `${name} → ${url.href}`).toBeDefined();
          expect(target.spec.ports.map((p: any) => p.port)).toContain(Number(url.port || 80));
        }
      }
      const ingress = objects.find((o) => o.kind === 'Ingress') as any;
      for (const path of ingress.spec.rules[0].http.paths) {
        const target = servicesByName.get(path.backend.service.name);
        expect(target.spec.ports.map((p: any) => p.name)).toContain(path.backend.service.port.name);
      }
    },
    30_000,
  );
});

describe('every feature in a workspace', () => {
  it('the full preset: compose places every service the single app would have, and is valid', async () => {
    const { app, deployment } = splitWorkspaceFeatures(presetFeatures('full'), 'npm');
    expect(app).toContain('postgres');
    expect(deployment).toEqual(expect.arrayContaining(['docker', 'kubernetes']));
    const planned = await plan(app, deployment);
    const doc = parseYaml(planned.file('docker-compose.yml')) as {
      services: Record<string, any>;
      volumes: Record<string, unknown>;
    };
    assertValidCompose(doc);
    const own = ['worker', 'postgres', 'postgres-replica', 'migrate'];
    expect(Object.keys(doc.services).sort()).toEqual(
      [
        ...NAMES,
        ...NAMES.flatMap((n) => own.map((o) => `${n}-${o}`)),
        'redis',
        'prometheus',
        'grafana',
        'gateway',
      ].sort(),
    );
    expect(planned.file('k8s/kustomization.yaml')).toContain('../services/order-items/k8s');
    // Its runtime files (PM2's ecosystem, New Relic's config, static's public/) are in the context.
    expect(planned.file('services/users/Dockerfile')).toContain('COPY services/users/public');
    expectCopiesInContext(planned.files);
    expectConsistentCompose(doc, planned.files);
    if (!hasBinary('docker-compose')) return; // required under CI (hasBinary throws there)
    const result = await execa('docker-compose', ['config', '-q'], {
      cwd: writeOut(planned.files),
      env: {
        REDIS_PASSWORD: 'unit-test-password',
        POSTGRES_PASSWORD: 'unit-test-password',
        POSTGRES_REPLICATION_PASSWORD: 'unit-test-password',
        GRAFANA_ADMIN_PASSWORD: 'unit-test-password',
      },
      reject: false,
    });
    expect(result.exitCode, result.stderr).toBe(0);
  }, 30_000);

  it('a database per service: its own primary, replica, migration and volumes', async () => {
    const planned = await plan(['postgres'], ['docker'], ['users', 'payments']);
    const doc = parseYaml(planned.file('docker-compose.yml')) as {
      services: Record<string, any>;
      volumes: Record<string, unknown>;
    };
    assertValidCompose(doc);
    expectConsistentCompose(doc, planned.files);
    for (const name of ['users', 'payments']) {
      const env = doc.services[name].environment as Record<string, string>;
      expect(new URL(env.DATABASE_URL!.replace(/\$\{[^}]*\}/, 'x')).hostname).toBe(
        `${name}-postgres`,
      );
      expect(new URL(env.DATABASE_REPLICA_URLS!.replace(/\$\{[^}]*\}/, 'x')).hostname).toBe(
        `${name}-postgres-replica`,
      );
      expect(doc.services[`${name}-postgres-replica`].environment.PRIMARY_HOST).toBe(
        `${name}-postgres`,
      );
      expect(doc.services[`${name}-migrate`].build.dockerfile).toBe(`services/${name}/Dockerfile`);
      expect(doc.services[name].depends_on).toMatchObject({
        [`${name}-postgres`]: { condition: 'service_healthy' },
        [`${name}-migrate`]: { condition: 'service_completed_successfully' },
      });
    }
    expect(Object.keys(doc.volumes).sort()).toEqual([
      'payments-postgres-data',
      'payments-postgres-replica-data',
      'users-postgres-data',
      'users-postgres-replica-data',
    ]);
  });

  it.skipIf(!hasBinary('kubectl'))(
    'kubernetes with postgres: kustomize builds valid objects',
    async () => {
      const { files } = await plan(['postgres'], ['kubernetes'], ['users', 'payments']);
      const { stdout } = await execa('kubectl', ['kustomize', join(writeOut(files), 'k8s')]);
      const objects = parseYamlDocuments(stdout, 'kustomize').map((doc) =>
        validateK8sObject(doc, 'kustomize'),
      );
      expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(
        expect.arrayContaining(['users', 'payments']),
      );
    },
    30_000,
  );
});

describe('workspace deployment features', () => {
  it('accepts docker and kubernetes at the root now; still refuses Yarn 1', () => {
    expect(splitWorkspaceFeatures(['redis', 'docker', 'kubernetes', 'nginx'], 'npm')).toEqual({
      app: ['redis'],
      deployment: ['docker', 'kubernetes', 'nginx'],
    });
    expect(() => splitWorkspaceFeatures(['docker'], 'yarn', '1.22.22')).toThrow(/Yarn 2 or later/);
  });

  it('a new service gets its place in compose and the Ingress (as `service add` renders the root)', async () => {
    const input = {
      directory: '/nonexistent/cse-workspace-deploy-unit',
      name: 'shop',
      port: 3000,
      packageManager: 'npm' as const,
      services: withPorts(['users', 'payments'], 3000),
      features: [],
      deployment: ['docker', 'kubernetes'],
      force: false,
    };
    const after = await renderRoot({
      ...input,
      services: withPorts(['users', 'payments', 'orders'], 3000),
    });
    const doc = parseYaml(after.get('docker-compose.yml')!) as { services: Record<string, any> };
    expect(doc.services.orders.environment.USERS_URL).toBe('http://users:3000');
    expect(doc.services.users.environment.ORDERS_URL).toBe('http://orders:3002');
    expect(after.get('k8s/kustomization.yaml')).toContain('../services/orders/k8s');
    expect(after.get('k8s/ingress.yaml')).toContain('/orders(/|$)(.*)');
  });
});
