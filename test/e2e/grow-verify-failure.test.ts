/**
 * A verify failure after `add` and after `remove` (issue: only install failures were tested):
 * the user's own file breaks the build, so the test-build fails at "build". Exit 1, the step
 * named, the changed files kept (manifest included), and the command that undoes the change.
 *
 * Install is the one faked step: an `npm` first on PATH links the suite's shared node_modules
 * for `npm install` (a real install each time would cost minutes) and hands every other command
 * (`npm run build`, …) to the real npm, so build, lint and test are the project's real ones.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sharedNodeModules } from '../helpers/shared-modules.js';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir('cse-grow-verify-');
/** Files only, no service needed by its tests. */
const FEATURE = 'static';

interface GrowDoc {
  ok: boolean;
  features: string[];
  steps: { name: string; status: string }[];
  error?: { message: string };
}

let env: Record<string, string>;

beforeAll(async () => {
  const modules = await sharedNodeModules();
  const realNpm = (await execa('sh', ['-c', 'command -v npm'])).stdout.trim();
  const bin = join(parent, 'bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'npm'),
    `#!/bin/sh\nif [ "$1" = install ]; then ln -sfn '${modules}' node_modules; exit 0; fi\nexec '${realNpm}' "$@"\n`,
  );
  chmodSync(join(bin, 'npm'), 0o755);
  env = { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
}, 900_000);

const manifestFeatures = (dir: string): string[] =>
  (JSON.parse(readFileSync(join(dir, '.scalable-express.json'), 'utf8')) as { features: string[] })
    .features;

describe('a verify failure after add and remove', () => {
  it('a user file that breaks the build: exit 1 naming the build step; the changes are kept', async () => {
    const created = await runCli(
      ['app', '--preset', 'minimal', '--yes', '--no-install', '--no-git'],
      {
        cwd: parent,
      },
    );
    expect(created.exitCode, created.stderr).toBe(0);
    const dir = join(parent, 'app');
    writeFileSync(join(dir, 'src/broken.ts'), "export const port: number = 'not a number';\n");

    const added = await runCli(['add', FEATURE, '--json', '--cwd', dir], { env });
    expect(added.exitCode, added.stderr).toBe(1);
    const addDoc = JSON.parse(added.stdout) as GrowDoc;
    expect(addDoc.ok).toBe(false);
    expect(addDoc.steps.map((s) => [s.name, s.status])).toEqual([
      ['install', 'passed'],
      ['build', 'failed'],
    ]);
    expect(added.stderr).toContain('"npm run build" failed');
    expect(added.stderr).toContain('src/broken.ts');
    expect(added.stderr).toContain(`undo with: create-scalable-express remove ${FEATURE}`);
    expect(manifestFeatures(dir)).toContain(FEATURE);
    expect(existsSync(join(dir, `src/features/${FEATURE}.ts`))).toBe(true);

    const removed = await runCli(['remove', FEATURE, '--json', '--cwd', dir], { env });
    expect(removed.exitCode, removed.stderr).toBe(1);
    const removeDoc = JSON.parse(removed.stdout) as GrowDoc;
    expect(removeDoc.steps.map((s) => [s.name, s.status])).toEqual([
      ['install', 'passed'],
      ['build', 'failed'],
    ]);
    expect(removed.stderr).toContain(`undo with: create-scalable-express add ${FEATURE}`);
    expect(manifestFeatures(dir)).not.toContain(FEATURE);
    expect(existsSync(join(dir, `src/features/${FEATURE}.ts`))).toBe(false);
    expect(readFileSync(join(dir, 'src/broken.ts'), 'utf8')).toContain('not a number');
  }, 600_000);
});
