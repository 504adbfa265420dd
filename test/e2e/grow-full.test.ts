import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetFeatures } from '../../src/features/presets.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import { runCli } from '../helpers/cli.js';
import { normalizedTree } from '../helpers/normalized-tree.js';
import { sharedNodeModules, testBuildShared } from '../helpers/shared-modules.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `add` over every feature of the full preset (test/e2e/grow-full-remove.test.ts: `remove`; two
 * files so that the two halves run side by side). After each step the project has the same files
 * as `create` gives for its features, and it builds, type-checks (its tests too), lints and boots
 * against one shared install of every feature's dependencies (test/helpers/shared-modules.ts).
 * Its own tests run on the pairwise covering set of created projects (test/e2e/matrix.test.ts),
 * which these steps equal file for file; test/e2e/grow.test.ts runs them after `add` too, with
 * real installs through the CLI's own verify.
 */
const FULL = resolveFeatures(presetFeatures('full'));
const parent = tempDir('cse-grow-full-');
const reference = tempDir('cse-grow-full-ref-');

async function cli(args: string[], cwd = parent): Promise<void> {
  const result = await runCli(args, { cwd });
  expect(result.exitCode, `${args.join(' ')}\n${result.stderr}`).toBe(0);
}

/** `create` with these features, under the same project name (name-derived values compare). */
async function created(name: string, features: string[], label: string): Promise<string> {
  const where = join(reference, label);
  mkdirSync(where);
  await cli(['--yes', '--no-install', '--no-git', name, '--features', features.join(',')], where);
  return join(where, name);
}

beforeAll(async () => {
  await sharedNodeModules();
}, 600_000);

describe('minimal → every feature of full', () => {
  it('added all at once gives the same files as create --preset full', async () => {
    await cli(['all-at-once', '--preset', 'minimal', '--yes', '--no-install', '--no-git']);
    await cli(['add', ...FULL, '--cwd', 'all-at-once', '--no-install']);
    await cli(['all-at-once', '--preset', 'full', '--yes', '--no-install', '--no-git'], reference);
    expect(normalizedTree(join(parent, 'all-at-once'))).toEqual(
      normalizedTree(join(reference, 'all-at-once')),
    );
  });

  describe('added one at a time: after each step, the files of create, and it builds', () => {
    const dir = join(parent, 'one-by-one');
    beforeAll(() =>
      cli(['one-by-one', '--preset', 'minimal', '--yes', '--no-install', '--no-git']),
    );
    FULL.forEach((id, i) => {
      it(`add ${id}`, async () => {
        await cli(['add', id, '--cwd', dir, '--no-install']);
        const features = FULL.slice(0, i + 1);
        expect(normalizedTree(dir)).toEqual(
          normalizedTree(await created('one-by-one', features, `step-${i + 1}`)),
        );
        await testBuildShared(dir, { runTests: false });
      });
    });
  });
});
