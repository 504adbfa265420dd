import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderProject, type ProjectInput } from '../../src/render/render.js';

/**
 * What each package manager (and version) gets in the rendered project, in memory: the
 * packageManager field, pnpm's build approvals, Yarn Berry's linker, and the CI and Dockerfile
 * commands that go with them.
 */

function render(
  packageManager: ProjectInput['packageManager'],
  packageManagerVersion: string | undefined,
  features: string[] = ['docker'],
): Promise<Map<string, string>> {
  return renderProject({
    name: 'svc',
    port: 3000,
    packageManager,
    packageManagerVersion,
    features,
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any -- YAML and JSON documents checked field by field */
function runSteps(tree: Map<string, string>): string[] {
  const wf = parse(tree.get('.github/workflows/ci.yml') ?? '') as any;
  return (wf.jobs.test.steps as { run?: string }[]).flatMap((s) => (s.run ? [s.run] : []));
}

function pkg(tree: Map<string, string>): any {
  return JSON.parse(tree.get('package.json') ?? '{}');
}

describe('per package manager', () => {
  it('package.json records the exact package manager and version', async () => {
    expect(pkg(await render('pnpm', '10.34.8')).packageManager).toBe('pnpm@10.34.8');
    expect(pkg(await render('yarn', '1.22.22')).packageManager).toBe('yarn@1.22.22');
    expect(pkg(await render('npm', '11.19.1')).packageManager).toBe('npm@11.19.1');
    expect(pkg(await render('npm', undefined)).packageManager).toBeUndefined();
  });

  it('pnpm: build scripts approved in pnpm-workspace.yaml (esbuild; New Relic add-ons decided)', async () => {
    const standard = parse((await render('pnpm', '10.34.8')).get('pnpm-workspace.yaml') ?? '');
    expect(standard).toEqual({ allowBuilds: { esbuild: true } });
    // pnpm 12 does not lock its own binary (a registry gap would fail every command).
    const current = parse((await render('pnpm', '12.21.0')).get('pnpm-workspace.yaml') ?? '');
    expect(current).toEqual({ allowBuilds: { esbuild: true }, pmOnFail: 'ignore' });
    const full = parse(
      (await render('pnpm', '12.21.0', ['newrelic'])).get('pnpm-workspace.yaml') ?? '',
    );
    expect(full.allowBuilds).toEqual({
      esbuild: true,
      '@newrelic/fn-inspect': false,
      '@newrelic/native-metrics': false,
      protobufjs: false,
    });
    expect((await render('npm', '11.19.1')).has('pnpm-workspace.yaml')).toBe(false);
  });

  it('Yarn Berry: node-modules linker and esbuild allowed to build; Yarn 1: neither', async () => {
    const berry = await render('yarn', '4.18.1');
    expect(parse(berry.get('.yarnrc.yml') ?? '')).toEqual({ nodeLinker: 'node-modules' });
    expect(pkg(berry).dependenciesMeta).toEqual({ esbuild: { built: true } });
    const classic = await render('yarn', '1.22.22');
    expect(classic.has('.yarnrc.yml')).toBe(false);
    expect(pkg(classic).dependenciesMeta).toBeUndefined();
  });

  it('Yarn Berry files are ignored by git, ESLint and Prettier', async () => {
    const tree = await render('yarn', '4.18.1');
    expect(tree.get('.gitignore')).toMatch(/^\.yarn\/\*$/m);
    expect(tree.get('.gitignore')).toMatch(/^\.pnp\.\*$/m);
    expect(tree.get('.prettierignore')).toMatch(/^\.yarn\/$/m);
    expect(tree.get('eslint.config.js')).toContain("'.pnp.*'");
  });

  it('CI installs frozen, then builds, type-checks, lints and tests', async () => {
    expect(runSteps(await render('npm', '11.19.1'))).toEqual([
      'npm ci',
      'npm run build',
      'npm run typecheck',
      'npm run lint',
      'npm test',
    ]);
    expect(runSteps(await render('pnpm', '10.34.8'))[0]).toBe('pnpm install --frozen-lockfile');
    expect(runSteps(await render('yarn', '1.22.22')).slice(0, 2)).toEqual([
      'corepack enable',
      'yarn install --frozen-lockfile',
    ]);
    expect(runSteps(await render('yarn', '4.18.1')).slice(0, 2)).toEqual([
      'corepack enable',
      'yarn install --immutable',
    ]);
  });

  it('the Dockerfile copies the package manager settings and installs with its commands', async () => {
    const pnpm = (await render('pnpm', '12.21.0')).get('Dockerfile') ?? '';
    expect(pnpm).toContain('COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./');
    expect(pnpm).toContain('RUN corepack enable');
    expect(pnpm).toContain('RUN pnpm install --frozen-lockfile --prod');
    const berry = (await render('yarn', '4.18.1')).get('Dockerfile') ?? '';
    expect(berry).toContain('COPY package.json yarn.lock .yarnrc.yml ./');
    expect(berry).toContain('RUN yarn install --immutable');
    expect(berry).toContain('RUN yarn workspaces focus --production');
    const npm = (await render('npm', '11.19.1')).get('Dockerfile') ?? '';
    expect(npm).not.toContain('corepack');
    expect(npm).toContain('COPY package.json package-lock.json ./');
  });
});
