import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectableFeatures } from '../../src/features/index.js';
import { presetFeatures } from '../../src/features/presets.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import { runCli } from '../helpers/cli.js';
import { startApp } from '../helpers/processes.js';
import { generateVerified } from '../helpers/project.js';
import { sharedNodeModules, testBuildShared } from '../helpers/shared-modules.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Every pair of features the rules allow must generate, build, lint, pass its tests and boot.
 * One install serves them all (test/helpers/shared-modules.ts). Pairs whose code is
 * byte-identical to a pair already checked — deployment features add only config files, which
 * each feature's own tests validate — are reported, not built twice.
 */
const parent = tempDir('cse-matrix-');

const ids = selectableFeatures.map((f) => f.id);
const pairs: [string, string][] = [];
for (let i = 0; i < ids.length; i++) {
  for (let j = i + 1; j < ids.length; j++) {
    const pair: [string, string] = [ids[i]!, ids[j]!];
    try {
      resolveFeatures(pair);
      pairs.push(pair);
    } catch {
      // a conflicting pair: refused by the rules (see test/unit/resolve.test.ts)
    }
  }
}

beforeAll(async () => {
  await sharedNodeModules();
}, 600_000);

describe(`every allowed pair of features (${pairs.length} pairs)`, () => {
  const seen = new Map<string, string>();

  it.each(pairs.map((p) => [p.join('--'), p] as const))(
    '%s generates, builds, lints, passes its tests and boots',
    async (name, pair) => {
      const result = await runCli(
        [name, '--features', pair.join(','), '--yes', '--no-install', '--no-git'],
        { cwd: parent },
      );
      expect(result.exitCode, result.stderr).toBe(0);
      const same = await testBuildShared(join(parent, name), seen, name);
      if (same)
        console.log(`${name}: same code as ${same}, already built, linted, tested and booted`);
    },
  );
});

describe('presets with a real install and the CLI’s own test-build', () => {
  it('full includes docker, nginx and kubernetes and passes', async () => {
    const full = resolveFeatures(presetFeatures('full'));
    expect(full).toEqual(expect.arrayContaining(['docker', 'nginx', 'kubernetes']));
    const project = await generateVerified(parent, 'full-app', ['--preset', 'full']);
    expect(project.result.features).toEqual(full);
    const app = await startApp(project.dir, { WEB_CONCURRENCY: '2' });
    expect((await fetch(`${app.url}/api/hello`)).status).toBe(200);
    expect(await app.stop('SIGTERM')).toBe(0);
  });

  it('standard passes', async () => {
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
