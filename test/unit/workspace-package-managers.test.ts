/**
 * pnpm and Yarn Berry workspaces, planned in memory: where the packages are listed, the client
 * as `workspace:*`, the root scripts, the package manager's settings at the root only, the CI
 * workflow's and each service's Dockerfile's commands. npm's plan is covered by workspace.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MANIFEST_FILE, type Manifest } from '../../src/manifest.js';
import { withoutRootOnly } from '../../src/workspace/package-managers.js';
import { planWorkspace, withPorts } from '../../src/workspace/render.js';

async function plan(
  packageManager: 'npm' | 'pnpm' | 'yarn',
  version: string,
  features: string[] = [],
) {
  const { changes } = await planWorkspace({
    directory: '/nonexistent/cse-workspace-pm-unit',
    name: 'shop',
    port: 3000,
    packageManager,
    packageManagerVersion: version,
    services: withPorts(['users', 'payments'], 3000),
    features,
    deployment: ['docker'],
    force: false,
  });
  const files = new Map(changes.map((c) => [c.path, String(c.content)]));
  return (path: string): string | undefined => files.get(path);
}

const runSteps = (ci: string | undefined): string[] =>
  (
    parseYaml(ci ?? '') as { jobs: { test: { steps: { run?: string }[] } } }
  ).jobs.test.steps.flatMap((s) => (s.run ? [s.run] : []));

describe('a pnpm workspace', async () => {
  const file = await plan('pnpm', '12.21.0');

  it('lists its packages and build approvals in the root pnpm-workspace.yaml only', () => {
    const settings = parseYaml(file('pnpm-workspace.yaml') ?? '') as Record<string, unknown>;
    expect(settings.packages).toEqual(['packages/*', 'services/*']);
    expect(settings.allowBuilds).toEqual({ esbuild: true });
    for (const service of ['users', 'payments']) {
      expect(file(`services/${service}/pnpm-workspace.yaml`)).toBeUndefined();
      // Not tracked by the service's manifest either: a later `add` there must not bring it back.
      const manifest = JSON.parse(file(`services/${service}/${MANIFEST_FILE}`) ?? '') as Manifest;
      expect(Object.keys(manifest.files)).not.toContain('pnpm-workspace.yaml');
    }
  });

  it('links the client as workspace:* and runs every package with pnpm -r', () => {
    const root = JSON.parse(file('package.json') ?? '') as Record<string, unknown>;
    expect(root.packageManager).toBe('pnpm@12.21.0');
    expect(root.workspaces).toBeUndefined();
    expect(root.scripts).toEqual({
      build: 'pnpm -r run build',
      typecheck: 'pnpm -r run typecheck',
      lint: 'pnpm -r run lint',
      test: 'pnpm -r run test',
    });
    const users = JSON.parse(file('services/users/package.json') ?? '') as {
      dependencies: Record<string, string>;
    };
    expect(users.dependencies['@shop/service-client']).toBe('workspace:*');
  });

  it('CI sets pnpm up and installs frozen; the Dockerfile filters to the service', () => {
    const ci = file('.github/workflows/ci.yml');
    expect(ci).toContain('uses: pnpm/action-setup@');
    expect(runSteps(ci)).toEqual([
      'pnpm install --frozen-lockfile',
      'pnpm run build',
      'pnpm run typecheck',
      'pnpm run lint',
      'pnpm test',
    ]);
    const dockerfile = file('services/payments/Dockerfile') ?? '';
    expect(dockerfile).toContain('COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./\n');
    expect(dockerfile).toContain('RUN pnpm install --frozen-lockfile --filter payments...\n');
    expect(dockerfile).toContain('RUN pnpm --filter payments... run build\n');
    expect(dockerfile).toContain('RUN pnpm install --frozen-lockfile --prod --filter payments...');
    expect(dockerfile).not.toContain('npm ci');
    expect(file('README.md')).toContain('pnpm --filter users run dev');
  });
});

describe('a pnpm workspace with pm2', async () => {
  const file = await plan('pnpm', '12.21.0', ['pm2']);

  it("starts pm2-runtime from the service's node_modules/.bin, where pnpm links it", () => {
    const dockerfile = file('services/users/Dockerfile') ?? '';
    expect(dockerfile).toContain('WORKDIR /app/services/users\n');
    expect(dockerfile).toMatch(/^CMD \["node_modules\/\.bin\/pm2-runtime", /m);
  });
});

describe('a pnpm workspace whose services have different features', () => {
  it("approves the builds of every service's dependencies", async () => {
    const { changes } = await planWorkspace({
      directory: '/nonexistent/cse-workspace-pm-unit',
      name: 'shop',
      port: 3000,
      packageManager: 'pnpm',
      packageManagerVersion: '12.21.0',
      services: [
        { name: 'users', port: 3000, features: [] },
        { name: 'payments', port: 3001, features: ['newrelic'] },
      ],
      features: [],
      deployment: [],
      force: false,
    });
    const settings = changes.find((c) => c.path === 'pnpm-workspace.yaml');
    expect(parseYaml(String(settings?.content))).toMatchObject({
      allowBuilds: { esbuild: true, '@newrelic/native-metrics': false },
    });
  });
});

describe('a Yarn Berry workspace', async () => {
  const file = await plan('yarn', '4.18.1');

  it('keeps .yarnrc.yml (node-modules linker) and dependenciesMeta at the root only', () => {
    expect(file('.yarnrc.yml')).toMatch(/^nodeLinker: node-modules$/m);
    expect(file('services/users/.yarnrc.yml')).toBeUndefined();
    const root = JSON.parse(file('package.json') ?? '') as Record<string, unknown>;
    expect(root.workspaces).toEqual(['packages/*', 'services/*']);
    expect(root.dependenciesMeta).toEqual({ esbuild: { built: true } });
    expect(root.scripts).toMatchObject({ build: 'yarn workspaces foreach -At run build' });
    // Its install state is made at the root: ignored there.
    expect(file('.gitignore')).toMatch(/^\.yarn\/\*$/m);
  });

  it('CI enables corepack and installs immutably; the Dockerfile focuses on the service', () => {
    expect(runSteps(file('.github/workflows/ci.yml'))).toEqual([
      'corepack enable',
      'yarn install --immutable',
      'yarn run build',
      'yarn run typecheck',
      'yarn run lint',
      'yarn test',
    ]);
    const dockerfile = file('services/users/Dockerfile') ?? '';
    expect(dockerfile).toContain('COPY package.json yarn.lock .yarnrc.yml ./\n');
    expect(dockerfile).toContain('RUN yarn workspaces focus users @shop/service-client\n');
    expect(dockerfile).toContain('RUN yarn workspaces foreach -Rt --from users run build\n');
    expect(dockerfile).toContain('RUN yarn workspaces focus --production users');
  });
});

describe('an npm workspace', async () => {
  const file = await plan('npm', '11.6.0');

  it('has none of their files and keeps its npm commands', () => {
    expect(file('pnpm-workspace.yaml')).toBeUndefined();
    expect(file('.yarnrc.yml')).toBeUndefined();
    expect(runSteps(file('.github/workflows/ci.yml'))[0]).toBe('npm ci');
    expect(file('services/users/Dockerfile')).toContain('RUN npm ci --workspace');
  });
});

describe('add in a service of a pnpm workspace', () => {
  it("drops pnpm-workspace.yaml from the service's changes and manifest", () => {
    const manifest = {
      files: { 'pnpm-workspace.yaml': 'a', 'src/app.ts': 'b' },
    };
    const changes = withoutRootOnly(
      [
        { path: 'pnpm-workspace.yaml', action: 'create', content: 'allowBuilds: {}\n' },
        { path: 'src/app.ts', action: 'update', content: 'x' },
        { path: MANIFEST_FILE, action: 'update', content: JSON.stringify(manifest) },
      ],
      'pnpm',
    );
    expect(changes.map((c) => c.path)).toEqual(['src/app.ts', MANIFEST_FILE]);
    expect(JSON.parse(String(changes[1]?.content))).toEqual({ files: { 'src/app.ts': 'b' } });
    expect(withoutRootOnly(changes, 'npm')).toEqual(changes);
  });
});
