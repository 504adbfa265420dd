import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetFeatures } from '../../src/features/presets.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import { runCli } from '../helpers/cli.js';
import { normalizedTree } from '../helpers/normalized-tree.js';
import { sharedNodeModules, testBuildShared } from '../helpers/shared-modules.js';
import { dependentsIn } from '../helpers/suite-covering.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `remove` of each feature of the full preset from a full project (test/e2e/grow-full.test.ts:
 * `add`): each result has the files `create` gives for the features left, and builds,
 * type-checks (its tests too), lints and boots against one shared install of every feature's
 * dependencies (test/helpers/shared-modules.ts). Its own tests run on the pairwise covering set
 * of created projects (test/e2e/matrix.test.ts).
 */
const FULL = resolveFeatures(presetFeatures('full'));
const parent = tempDir('cse-grow-full-remove-');
const reference = tempDir('cse-grow-full-remove-ref-');

async function cli(args: string[], cwd = parent): Promise<void> {
  const result = await runCli(args, { cwd });
  expect(result.exitCode, `${args.join(' ')}\n${result.stderr}`).toBe(0);
}

beforeAll(async () => {
  await sharedNodeModules();
}, 600_000);

/**
 * What a user does before removing a feature whose example resource they own and still mount:
 * delete it and its line in src/routes/examples.ts. Until then `remove` refuses (checked below).
 */
const ownedExample: Record<string, { files: string[]; mountedBy: RegExp }> = {
  postgres: {
    files: ['src/routes/items.ts', 'src/db/schema.ts', 'test/items.test.ts'],
    mountedBy: /itemRoutes/,
  },
};

function deleteExample(dir: string, id: string): void {
  const example = ownedExample[id];
  if (!example) return;
  for (const file of example.files) rmSync(join(dir, file));
  const examples = join(dir, 'src/routes/examples.ts');
  const kept = readFileSync(examples, 'utf8')
    .split('\n')
    .filter((line) => !example.mountedBy.test(line));
  writeFileSync(examples, kept.join('\n'));
}

describe('remove each feature from a full project', () => {
  beforeAll(() => cli(['full-source', '--preset', 'full', '--yes', '--no-install', '--no-git']));
  for (const id of FULL) {
    const going = [id, ...dependentsIn(FULL, id)];
    it(`remove ${going.join(' ')}: the files of create, and it builds, lints and boots`, async () => {
      const dir = join(parent, `without-${id}`);
      cpSync(join(parent, 'full-source'), dir, { recursive: true });
      if (going.length > 1) {
        // A feature another one requires is not removed alone: the user names both.
        const refused = await runCli(['remove', id, '--cwd', dir, '--no-install'], { cwd: parent });
        expect(refused.exitCode).not.toBe(0);
        expect(refused.stderr).toContain(`"${going[1]}" requires it`);
      }
      if (ownedExample[id]) {
        const refused = await runCli(['remove', id, '--cwd', dir, '--no-install'], { cwd: parent });
        expect(refused.exitCode, refused.stderr).toBe(1);
        expect(refused.stderr).toContain(`Cannot remove "${id}"`);
        deleteExample(dir, id);
      }
      await cli(['remove', ...going, '--cwd', dir, '--no-install']);
      const manifest = JSON.parse(readFileSync(join(dir, '.scalable-express.json'), 'utf8')) as {
        features: string[];
      };
      const left = FULL.filter((f) => !going.includes(f));
      expect(manifest.features).toEqual(left);
      const where = join(reference, id);
      mkdirSync(where);
      await cli(
        ['full-source', '--features', left.join(','), '--yes', '--no-install', '--no-git'],
        where,
      );
      expect(normalizedTree(dir)).toEqual(normalizedTree(join(where, 'full-source')));
      await testBuildShared(dir, { runTests: false });
    });
  }
});
