import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { allFeatures } from '../../src/features/index.js';
import { versions, type PackageName } from '../../src/versions.js';
import { startApp } from './processes.js';
import { undeclaredUses } from './suite-imports.js';

/**
 * One real install of the union of every feature's dependencies, shared by tests that check many
 * generated combinations (pairs, add/remove steps) without an install each. Kept in the temp
 * folder, keyed by the dependency list, and built once even when test files run in parallel.
 */
export async function sharedNodeModules(): Promise<string> {
  const pick = (key: 'dependencies' | 'devDependencies'): Record<string, string> =>
    Object.fromEntries(
      [
        ...new Set(
          allFeatures.flatMap((f) => {
            const packages = f[key] ?? [];
            // Features whose packages depend on others: every feature counts as on.
            return typeof packages === 'function'
              ? packages({
                  name: 'shared',
                  port: 3000,
                  packageManager: 'npm',
                  features: [],
                  has: () => true,
                })
              : packages;
          }),
        ),
      ]
        .sort()
        .map((name: PackageName) => [name, versions[name]]),
    );
  const pkg = JSON.stringify({
    name: 'shared',
    private: true,
    type: 'module',
    dependencies: pick('dependencies'),
    devDependencies: pick('devDependencies'),
  });
  const dir = join(
    tmpdir(),
    `cse-shared-modules-${createHash('sha256').update(pkg).digest('hex').slice(0, 12)}`,
  );
  const done = join(dir, '.installed');
  const lock = `${dir}.lock`;
  for (;;) {
    if (existsSync(done)) return join(dir, 'node_modules');
    try {
      mkdirSync(lock);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500)); // another test file is installing
    }
  }
  try {
    if (!existsSync(done)) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), pkg);
      const install = await execa(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline'],
        { cwd: dir, reject: false, all: true },
      );
      if (install.exitCode !== 0) throw new Error(`shared install failed:\n${String(install.all)}`);
      writeFileSync(done, new Date().toISOString());
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return join(dir, 'node_modules');
}

async function run(dir: string, script: string): Promise<void> {
  const result = await execa('npm', ['run', script], {
    cwd: dir,
    reject: false,
    all: true,
    env: { NODE_ENV: undefined },
  });
  if (result.exitCode !== 0)
    throw new Error(`npm run ${script} failed in ${dir}:\n${String(result.all).slice(-4000)}`);
}

/**
 * Links the shared install as the project's node_modules and builds the project; its package.json
 * must declare what it imports (the shared install holds every feature's packages, so a build
 * cannot tell).
 */
export async function buildShared(dir: string): Promise<void> {
  const nodeModules = await sharedNodeModules();
  expect(undeclaredUses(dir, nodeModules), 'used but not declared in package.json').toEqual([]);
  if (!existsSync(join(dir, 'node_modules')))
    symlinkSync(nodeModules, join(dir, 'node_modules'), 'dir');
  await run(dir, 'build');
}

/**
 * The test-build against the shared install: the package.json declares what the project uses
 * (the shared install holds every feature's packages, so a build cannot tell), then build,
 * typecheck (the tests too), lint, test, then boot the built server and check it serves and
 * stops cleanly. `runTests: false` leaves out the project's own tests (two thirds of the time):
 * for grow steps whose files equal a created project's, whose tests the matrix runs.
 */
export async function testBuildShared(
  dir: string,
  { runTests = true }: { runTests?: boolean } = {},
): Promise<void> {
  await buildShared(dir);
  await run(dir, 'typecheck');
  await run(dir, 'lint');
  if (runTests) await run(dir, 'test');
  const app = await startApp(dir, { WEB_CONCURRENCY: '2' });
  // Ready may trail alive for a moment (load-shedding on a busy machine): poll, bounded.
  await expect
    .poll(async () => (await fetch(`${app.url}/readyz`)).status, { timeout: 15_000, interval: 200 })
    .toBe(200);
  expect((await fetch(`${app.url}/api/hello`)).status).toBe(200);
  expect(await app.stop('SIGTERM')).toBe(0);
}
