import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetFeatures } from '../../src/features/presets.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import { runCli } from '../helpers/cli.js';
import { sharedNodeModules, testBuildShared } from '../helpers/shared-modules.js';
import { dependentsIn } from '../helpers/suite-covering.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `remove` of each feature of the full preset from a full project (test/e2e/grow-full.test.ts:
 * `add`): each result is checked with the test-build (build, lint, test, boot) against one
 * shared install of every feature's dependencies (test/helpers/shared-modules.ts).
 */
const FULL = resolveFeatures(presetFeatures('full'));
const parent = tempDir('cse-grow-full-remove-');

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
    it(`remove ${going.join(' ')}: still builds, lints, passes its tests and boots`, async () => {
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
      expect(manifest.features).toEqual(FULL.filter((f) => !going.includes(f)));
      await testBuildShared(dir);
    });
  }
});
