/**
 * Split later, for real: a single project with a user's edit in git becomes a workspace with
 * `service add payments`, and the workspace's own verify passes: one install at the root, then
 * the shared client and both services (the moved app and the new one) built, type-checked,
 * linted, tested and booted. The moves themselves (bytes, modes, git history, refusals, a hard
 * kill) are covered without installing in test/integration/service-split.test.ts.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const gitEnv = {
  GIT_AUTHOR_NAME: 'Split Test',
  GIT_AUTHOR_EMAIL: 'split@example.test',
  GIT_COMMITTER_NAME: 'Split Test',
  GIT_COMMITTER_EMAIL: 'split@example.test',
};

interface SplitDoc {
  ok: boolean;
  split: { app: string; git: string };
  steps: { target: string; name: string; status: string }[];
}

describe('service add in a single project, installed and verified', () => {
  const parent = tempDir('cse-split-e2e-');
  const root = join(parent, 'shop');

  // One install and three verified packages on a shared 2-core machine: a generous ceiling.
  it(
    'the split workspace installs once and verifies every package',
    { timeout: 900_000 },
    async () => {
      const made = await runCli(['shop', '--preset', 'minimal', '--no-install', '--yes'], {
        cwd: parent,
        env: gitEnv,
      });
      expect(made.exitCode, made.stderr).toBe(0);
      appendFileSync(join(root, 'src/routes/examples.ts'), '// my own line\n');
      await execa('git', ['commit', '-q', '-am', 'My own changes'], { cwd: root, env: gitEnv });
      const edited = readFileSync(join(root, 'src/routes/examples.ts'));

      const result = await runCli(['service', 'add', 'payments', '--json'], {
        cwd: root,
        env: gitEnv,
      });
      const doc = JSON.parse(result.stdout) as SplitDoc;
      expect(result.exitCode, result.stderr).toBe(0);
      expect(doc.split).toMatchObject({ app: 'services/shop', git: 'committed' });
      expect(readFileSync(join(root, 'services/shop/src/routes/examples.ts'))).toEqual(edited);
      expect(doc.steps.every((s) => s.status === 'passed')).toBe(true);
      for (const target of ['services/shop', 'services/payments']) {
        expect(doc.steps.map((s) => `${s.target} ${s.name}`)).toEqual(
          expect.arrayContaining([`${target} lint`, `${target} test`, `${target} boot`]),
        );
      }
      expect(doc.steps.map((s) => s.target)).toContain('packages/service-client');
    },
  );
});
