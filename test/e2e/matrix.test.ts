import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { allFeatures, selectableFeatures } from '../../src/features/index.js';
import { presetFeatures } from '../../src/features/presets.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import { versions, type PackageName } from '../../src/versions.js';
import { runCli } from '../helpers/cli.js';
import { startApp } from '../helpers/processes.js';
import { generateVerified } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Every pair of features the rules allow must generate, build, lint, pass its tests and boot.
 * One install serves them all: a node_modules with the union of every feature's dependencies,
 * symlinked into each generated pair. Pairs whose code (src/, test/, package.json, configs) is
 * byte-identical to a pair already checked — deployment features add only config files — are not
 * built twice; their config files are checked by each feature's own tests.
 */
const parent = tempDir('cse-matrix-');
const shared = join(parent, 'shared');

const ids = selectableFeatures.map((f) => f.id);
const pairs: [string, string][] = [];
for (let i = 0; i < ids.length; i++) {
  for (let j = i + 1; j < ids.length; j++) {
    const pair: [string, string] = [ids[i]!, ids[j]!];
    try {
      resolveFeatures(pair);
      pairs.push(pair);
    } catch {
      // a conflicting pair: refused by the rules, covered by the unit tests
    }
  }
}

function codeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string): void => {
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

beforeAll(async () => {
  const names = (key: 'dependencies' | 'devDependencies') =>
    Object.fromEntries(
      [...new Set(allFeatures.flatMap((f) => f[key] ?? []))]
        .sort()
        .map((name: PackageName) => [name, versions[name]]),
    );
  mkdirSync(shared);
  writeFileSync(
    join(shared, 'package.json'),
    JSON.stringify({
      name: 'shared',
      private: true,
      type: 'module',
      dependencies: names('dependencies'),
      devDependencies: names('devDependencies'),
    }),
  );
  const install = await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: shared,
    reject: false,
    all: true,
  });
  if (install.exitCode !== 0) throw new Error(String(install.all));
}, 600_000);

describe(`every allowed pair of features (${pairs.length} pairs)`, () => {
  const checked = new Map<string, string>();

  it.each(pairs.map((p) => [p.join('+'), p] as const))(
    '%s generates, builds, lints, passes its tests and boots',
    async (name, pair) => {
      const result = await runCli(
        [name, '--features', pair.join(','), '--yes', '--no-install', '--no-git'],
        { cwd: parent },
      );
      expect(result.exitCode, result.stderr).toBe(0);
      const dir = join(parent, name);
      const hash = codeHash(dir);
      const same = checked.get(hash);
      if (same) {
        console.log(`${name}: same code as ${same}, already built, linted, tested and booted`);
        return;
      }
      symlinkSync(join(shared, 'node_modules'), join(dir, 'node_modules'), 'dir');
      await run(dir, 'build');
      await run(dir, 'lint');
      await run(dir, 'test');
      const app = await startApp(dir, { WEB_CONCURRENCY: '2' });
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${app.url}/api/hello`)).status).toBe(200);
      expect(await app.stop('SIGTERM')).toBe(0);
      checked.set(hash, name);
    },
  );
});

describe('the full preset', () => {
  it('includes docker, nginx and kubernetes, and passes the whole test-build with a real install', async () => {
    expect(resolveFeatures(presetFeatures('full'))).toEqual(
      expect.arrayContaining(['docker', 'nginx', 'kubernetes']),
    );
    const project = await generateVerified(parent, 'full-app', ['--preset', 'full']);
    expect(project.result.features).toEqual(resolveFeatures(presetFeatures('full')));
    const app = await startApp(project.dir, { WEB_CONCURRENCY: '2' });
    expect((await fetch(`${app.url}/api/hello`)).status).toBe(200);
    expect(await app.stop('SIGTERM')).toBe(0);
  });

  it('the standard preset passes the whole test-build', async () => {
    const project = await generateVerified(parent, 'standard-app', ['--preset', 'standard']);
    expect(project.result.features).toEqual([
      'cluster',
      'redis',
      'rate-limit',
      'winston',
      'metrics',
    ]);
  });
});
