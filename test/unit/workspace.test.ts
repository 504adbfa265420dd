/**
 * `create --services`, in memory: service names, the feature split, and the planned workspace
 * (each service a project of the create engine that `add` can still grow, the shared client, the
 * gateway), without writing or installing anything.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../../src/errors.js';
import { hashContent, MANIFEST_FILE, type Manifest } from '../../src/manifest.js';
import { parseServiceNames, splitWorkspaceFeatures } from '../../src/options/services.js';
import { templatesDir } from '../../src/paths.js';
import { planChanges } from '../../src/tree/plan.js';
import { WORKSPACE_FILE } from '../../src/workspace/manifest.js';
import { mountRoutes, planWorkspace, renderRoot, withPorts } from '../../src/workspace/render.js';

describe('service names', () => {
  it('takes lowercase DNS-label names, in order', () => {
    expect(parseServiceNames('users, payments,order-items', 'shop')).toEqual([
      'users',
      'payments',
      'order-items',
    ]);
  });

  it.each([
    ['Users', /Invalid service name "Users"/],
    ['user_s', /Invalid service name/],
    ['1users', /Invalid service name/],
    ['users-', /Invalid service name/],
    ['a'.repeat(41), /Invalid service name/],
    ['users,users', /names "users" twice/],
    [' , ', /names no service/],
    ['shop', /like its workspace/],
  ])('refuses %j in one line (exit 2)', (value, message) => {
    let error: unknown;
    try {
      parseServiceNames(value, 'shop');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('workspace features', () => {
  it('keeps in-app features in the services and nginx at the root', () => {
    expect(splitWorkspaceFeatures(['cluster', 'redis', 'nginx'], 'npm')).toEqual({
      app: ['cluster', 'redis'],
      deployment: ['nginx'],
    });
  });

  it('keeps HAProxy at the root too', () => {
    expect(splitWorkspaceFeatures(['haproxy'], 'npm').deployment).toEqual(['haproxy']);
  });

  it('accepts pnpm and Yarn Berry workspaces; refuses Yarn 1 in one line', () => {
    expect(splitWorkspaceFeatures(['docker'], 'pnpm', '12.21.0').deployment).toEqual(['docker']);
    expect(splitWorkspaceFeatures([], 'yarn', '4.18.1').app).toEqual([]);
    expect(() => splitWorkspaceFeatures([], 'yarn', '1.22.22')).toThrow(/needs Yarn 2 or later/);
  });
});

describe('planWorkspace', async () => {
  const { changes, manifest } = await planWorkspace({
    directory: '/nonexistent/cse-workspace-unit',
    name: 'shop',
    port: 3000,
    packageManager: 'npm',
    packageManagerVersion: '11.6.0',
    services: withPorts(['users', 'payments'], 3000),
    features: ['redis'],
    deployment: ['nginx'],
    force: false,
  });
  const files = new Map(changes.map((c) => [c.path, String(c.content)]));
  const file = (path: string): string => {
    const content = files.get(path);
    if (content === undefined) throw new Error(`no ${path} planned`);
    return content;
  };

  it('plans the workspace: root, shared client, one project per service, manifest last', () => {
    expect(changes.every((c) => c.action === 'create')).toBe(true);
    expect(changes.at(-1)?.path).toBe(WORKSPACE_FILE);
    expect(manifest.services).toEqual([
      { name: 'users', port: 3000 },
      { name: 'payments', port: 3001 },
    ]);
    const root = JSON.parse(file('package.json')) as { workspaces: string[] };
    expect(root.workspaces).toEqual(['packages/*', 'services/*']);
    for (const service of ['users', 'payments']) {
      const own = JSON.parse(file(`services/${service}/${MANIFEST_FILE}`)) as Manifest;
      expect(own.project.name).toBe(service);
      expect(own.features).toEqual(['redis']);
      expect(file(`services/${service}/src/features/index.ts`)).toContain('redis');
      const pkg = JSON.parse(file(`services/${service}/package.json`)) as {
        dependencies: Record<string, string>;
      };
      expect(pkg.dependencies['@shop/service-client']).toBe('*');
    }
    // A service's CI workflow means nothing under services/: GitHub reads the root's only.
    expect([...files.keys()].filter((p) => p.includes('.github/'))).toEqual([
      '.github/workflows/ci.yml',
    ]);
    // The workflow runs the root's scripts, and each exists.
    const ci = parseYaml(file('.github/workflows/ci.yml')) as {
      jobs: { test: { steps: { run?: string }[] } };
    };
    const runs = ci.jobs.test.steps.flatMap((s) => (s.run ? [s.run] : []));
    expect(runs).toEqual([
      'npm ci',
      'npm run build',
      'npm run typecheck',
      'npm run lint',
      'npm test',
    ]);
    const scripts = (JSON.parse(file('package.json')) as { scripts: Record<string, string> })
      .scripts;
    for (const run of runs.slice(1)) expect(scripts[run.replace(/^npm (run )?/, '')]).toBeTruthy();
    expect(file('services/payments/src/routes/payments.ts')).toContain(
      "from '@shop/service-client'",
    );
    expect(file('services/payments/.env.example')).toContain('USERS_URL=');
  });

  it('gives the client the services’ own breaker, byte for byte', () => {
    const breaker = readFileSync(join(templatesDir('base'), 'src/breaker.ts'), 'utf8');
    expect(file('packages/service-client/src/breaker.ts')).toBe(breaker);
    expect(JSON.parse(file('packages/service-client/package.json'))).toMatchObject({
      name: '@shop/service-client',
    });
  });

  it('routes each service in the gateway, prefix stripped', () => {
    const gateway = file('gateway/nginx.conf');
    for (const [service, port] of [
      ['users', 3000],
      ['payments', 3001],
    ] as const) {
      expect(gateway).toContain(`server ${service}:${port} max_fails=3 fail_timeout=10s resolve;`);
      expect(gateway).toMatch(
        new RegExp(`location /${service}/ \\{[^}]*proxy_pass http://${service}/;`),
      );
    }
    expect(gateway).toContain('error_page 502 503 504 = @unavailable;');
    // Any other path: the gateway's own JSON 404 (without it nginx would serve its html folder).
    expect(gateway).toMatch(/location \/ \{[^}]*return 404 '\{"error":"Not Found"\}/);
  });

  it('records the files it changed in the service’s manifest, so `add` sees no edit of yours', async () => {
    const prefix = 'services/payments/';
    const own = JSON.parse(file(`${prefix}${MANIFEST_FILE}`)) as Manifest;
    expect(own.files['src/routes/index.ts']).toBe(
      hashContent(file(`${prefix}src/routes/index.ts`)),
    );
    // `add metrics` in the service, against the files as planned: no conflict at all.
    const grown = await planChanges({
      target: { ...own.project, features: ['redis', 'metrics'] },
      manifest: own,
      readCurrent: async (path) => {
        const content = files.get(`${prefix}${path}`);
        return content === undefined ? undefined : Buffer.from(content);
      },
      force: false,
    });
    expect(grown.conflicts.map((c) => c.path)).toEqual([]);
    expect(grown.changes.map((c) => c.path)).toContain('src/features/metrics.ts');
    // The route files are the user's: never in the manifest, never touched by add.
    expect(own.files['src/routes/payments.ts']).toBeUndefined();
    expect(grown.changes.map((c) => c.path)).not.toContain('src/routes/payments.ts');
  });
});

describe('the HAProxy gateway', () => {
  it('routes each service by its prefix, stripped, with JSON errors of its own', async () => {
    const root = await renderRoot({
      directory: '/nonexistent/cse-workspace-unit',
      name: 'shop',
      port: 3000,
      packageManager: 'npm',
      services: withPorts(['users', 'payments'], 3000),
      features: [],
      deployment: ['haproxy'],
      force: false,
    });
    expect(root.has('gateway/nginx.conf')).toBe(false);
    const cfg = root.get('gateway/haproxy.cfg') ?? '';
    for (const [service, port] of [
      ['users', 3000],
      ['payments', 3001],
    ] as const) {
      expect(cfg).toContain(`use_backend ${service} if { path_beg /${service}/ }`);
      expect(cfg).toMatch(
        new RegExp(`backend ${service}\\n[^]*?replace-path \\^/${service}\\(/\\.\\*\\) \\\\1`),
      );
      expect(cfg).toContain(`server-template ${service} 1-10 ${service}:${port} `);
    }
    expect(cfg).toContain(`http-error status 503 content-type application/json`);
  });
});

describe('mountRoutes', () => {
  it('refuses a routes/index.ts it does not recognise instead of writing a broken one', () => {
    expect(() => mountRoutes('export {}', { module: 'users', factory: 'userRoutes' })).toThrow(
      /no longer mounts the examples/,
    );
  });
});
