import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { allFeatures } from '../../src/features/index.js';
import { versions, type PackageName } from '../../src/versions.js';
import { startApp } from './processes.js';

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

/** A hash of everything that decides whether a project builds and passes its tests. */
export function codeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(relative(dir, path)).update(readFileSync(path));
    }
  };
  walk(join(dir, 'src'));
  walk(join(dir, 'test'));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  hash.update(JSON.stringify([pkg.scripts, pkg.dependencies, pkg.devDependencies]));
  return hash.digest('hex');
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
 * The test-build against the shared install: build, lint, test, then boot the built server and
 * check it serves and stops cleanly. `seen` maps code hashes already proven to the project that
 * proved them: a project with byte-identical code is reported, not rebuilt.
 */
export async function testBuildShared(
  dir: string,
  seen: Map<string, string>,
  label: string,
): Promise<string | undefined> {
  const hash = codeHash(dir);
  const same = seen.get(hash);
  if (same) return same;
  if (!existsSync(join(dir, 'node_modules')))
    symlinkSync(await sharedNodeModules(), join(dir, 'node_modules'), 'dir');
  await run(dir, 'build');
  await run(dir, 'lint');
  await run(dir, 'test');
  const app = await startApp(dir, { WEB_CONCURRENCY: '2' });
  expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  expect((await fetch(`${app.url}/api/hello`)).status).toBe(200);
  expect(await app.stop('SIGTERM')).toBe(0);
  seen.set(hash, label);
  return undefined;
}
