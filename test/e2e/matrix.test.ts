import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetFeatures } from '../../src/features/presets.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import { runCli } from '../helpers/cli.js';
import { startApp } from '../helpers/processes.js';
import { generateVerified } from '../helpers/project.js';
import { sharedNodeModules, testBuildShared } from '../helpers/shared-modules.js';
import { coveringSet } from '../helpers/suite-covering.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Every allowed pair of features, together and apart, generates, builds, type-checks, lints,
 * passes its tests and boots: a computed pairwise covering set of projects
 * (test/helpers/suite-covering.ts, proven by test/unit/suite-covering.test.ts), each with many
 * features, instead of one project per pair. One install serves them all
 * (test/helpers/shared-modules.ts); each project's package.json must declare what it imports.
 */
const parent = tempDir('cse-matrix-');
const covering = coveringSet();

beforeAll(async () => {
  await sharedNodeModules();
}, 600_000);

describe(`a pairwise covering set of features (${covering.length} projects)`, () => {
  it.each(covering.map((features, i) => [features.join(','), `cover-${i + 1}`, features] as const))(
    '%s generates, builds, type-checks, lints, passes its tests and boots',
    async (_label, name, features) => {
      const result = await runCli(
        [name, '--features', features.join(','), '--yes', '--no-install', '--no-git'],
        { cwd: parent },
      );
      expect(result.exitCode, result.stderr).toBe(0);
      await testBuildShared(join(parent, name));
    },
  );
});

describe('presets with a real install and the CLI’s own test-build', () => {
  it('full is every feature that conflicts with none before it, and passes', async () => {
    // The exact list, written out: not computed by the code under test.
    const full = [
      'cluster',
      'redis',
      'postgres',
      'queue',
      'rate-limit',
      'winston',
      'newrelic',
      'metrics',
      'static',
      'docker',
      'nginx',
      'kubernetes',
      'load-shedding',
    ];
    expect(resolveFeatures(presetFeatures('full'))).toEqual(full);
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
