import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  detectPackageManager,
  detectPackageManagerVersion,
  fallbackVersions,
  isOnPath,
  isYarnBerry,
  packageManagerCommands,
} from '../../src/pm.js';

describe('package manager detection', () => {
  it('reads npm_config_user_agent', () => {
    expect(
      detectPackageManager({ npm_config_user_agent: 'pnpm/9.12.0 npm/? node/v24.1.0 linux x64' }),
    ).toBe('pnpm');
    expect(
      detectPackageManager({ npm_config_user_agent: 'yarn/4.5.0 npm/? node/v24.1.0 linux x64' }),
    ).toBe('yarn');
    expect(
      detectPackageManager({
        npm_config_user_agent: 'npm/11.0.0 node/v24.1.0 linux x64 workspaces/false',
      }),
    ).toBe('npm');
  });

  it('falls back to npm when launched otherwise', () => {
    expect(detectPackageManager({})).toBe('npm');
    expect(detectPackageManager({ npm_config_user_agent: 'bun/1.2.0' })).toBe('npm');
  });

  it('finds executables on PATH', () => {
    expect(isOnPath('node')).toBe(true);
    expect(isOnPath('definitely-not-a-command-xyz')).toBe(false);
  });
});

describe('package manager version', () => {
  it('takes the version from the user agent when that package manager launched us', () => {
    const env = { npm_config_user_agent: 'pnpm/10.34.8 npm/? node/v24.1.0 linux x64', PATH: '' };
    expect(detectPackageManagerVersion('pnpm', env)).toBe('10.34.8');
    // Launched by pnpm but generating for yarn: the agent says nothing about yarn.
    expect(detectPackageManagerVersion('yarn', env)).toBe(fallbackVersions.yarn);
  });

  it('asks the package manager on PATH, else falls back', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'cse-pm-unit-'));
    await writeFile(join(bin, 'yarn'), '#!/bin/sh\necho 1.22.22\n');
    await chmod(join(bin, 'yarn'), 0o755);
    await writeFile(join(bin, 'pnpm'), '#!/bin/sh\necho not a version\n');
    await chmod(join(bin, 'pnpm'), 0o755);
    expect(detectPackageManagerVersion('yarn', { PATH: bin })).toBe('1.22.22');
    expect(detectPackageManagerVersion('pnpm', { PATH: bin })).toBe(fallbackVersions.pnpm);
    expect(detectPackageManagerVersion('npm', { PATH: bin })).toBeUndefined();
    await rm(bin, { recursive: true });
  });

  it("reads the version from the package npm's or pnpm's executable links into, without running it", async () => {
    const root = await mkdtemp(join(tmpdir(), 'cse-pm-unit-'));
    const bin = join(root, 'bin');
    await mkdir(bin);
    // Installed as npm installs them: bin/<name> → <package>/bin/<script>. The scripts answer a
    // different version, so a result of 10.1.2 / 11.2.3 shows that nothing was run.
    const installs: [string, string][] = [
      ['pnpm', '10.1.2'],
      ['npm', '11.2.3'],
      ['yarn', '1.22.19'],
    ];
    for (const [pkg, version] of installs) {
      await mkdir(join(root, pkg, 'bin'), { recursive: true });
      await writeFile(join(root, pkg, 'package.json'), JSON.stringify({ name: pkg, version }));
      await writeFile(join(root, pkg, 'bin', 'cli.js'), '#!/bin/sh\necho 9.9.9\n');
      await chmod(join(root, pkg, 'bin', 'cli.js'), 0o755);
      await symlink(join(root, pkg, 'bin', 'cli.js'), join(bin, pkg));
    }
    expect(detectPackageManagerVersion('pnpm', { PATH: bin })).toBe('10.1.2');
    expect(detectPackageManagerVersion('npm', { PATH: bin })).toBe('11.2.3');
    // Yarn 1 may hand over to another version (yarn-path): it is asked.
    expect(detectPackageManagerVersion('yarn', { PATH: bin })).toBe('9.9.9');
    // A link into some other package (a corepack shim): the package manager is asked.
    await writeFile(
      join(root, 'pnpm', 'package.json'),
      JSON.stringify({ name: 'corepack', version: '0.34.0' }),
    );
    expect(detectPackageManagerVersion('pnpm', { PATH: bin })).toBe('9.9.9');
    await rm(root, { recursive: true });
  });

  it('tells Yarn Berry from Yarn 1, the fallback being Berry', () => {
    expect(isYarnBerry('yarn', '1.22.22')).toBe(false);
    expect(isYarnBerry('yarn', '4.18.1')).toBe(true);
    expect(isYarnBerry('yarn', undefined)).toBe(true);
    expect(isYarnBerry('pnpm', '10.0.0')).toBe(false);
  });
});

describe('package manager commands', () => {
  it('the first install may write the lockfile even under CI; CI installs frozen', () => {
    expect(packageManagerCommands('npm', '11.0.0')).toMatchObject({
      install: ['install'],
      frozenInstall: 'npm ci',
      productionInstall: 'npm ci --omit=dev',
    });
    expect(packageManagerCommands('pnpm', '12.21.0')).toMatchObject({
      install: ['install', '--no-frozen-lockfile'],
      frozenInstall: 'pnpm install --frozen-lockfile',
      configFiles: ['pnpm-workspace.yaml'],
    });
    expect(packageManagerCommands('yarn', '1.22.22')).toMatchObject({
      install: ['install'],
      frozenInstall: 'yarn install --frozen-lockfile',
      configFiles: [],
    });
    expect(packageManagerCommands('yarn', '4.18.1')).toMatchObject({
      install: ['install', '--no-immutable'],
      frozenInstall: 'yarn install --immutable',
      productionInstall: 'yarn workspaces focus --production',
      configFiles: ['.yarnrc.yml'],
    });
  });
});
