/**
 * Split later with pnpm and Yarn Berry, for real: a single project made and installed with the
 * package manager (so its lockfile and settings are the real ones), committed with a user's edit,
 * becomes a workspace with `service add payments`, and the workspace's own verify passes with
 * that package manager: one install at the root, then the client and both services built,
 * type-checked, linted, tested and booted. test/e2e/service-split.test.ts does the same with npm.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  cleanEnv,
  corepackStub,
  installManager,
  pnpmCurrent,
  yarnBerryCurrent,
} from '../helpers/package-managers.js';
import { tempDir } from '../helpers/tmp.js';

const gitEnv = {
  GIT_AUTHOR_NAME: 'Split Test',
  GIT_AUTHOR_EMAIL: 'split@example.test',
  GIT_COMMITTER_NAME: 'Split Test',
  GIT_COMMITTER_EMAIL: 'split@example.test',
};

interface SplitDoc {
  split: { app: string; git: string };
  steps: { target: string; name: string; status: string }[];
}

const parent = tempDir('cse-split-pm-');

describe.each([
  { manager: pnpmCurrent, lockfile: 'pnpm-lock.yaml', settings: 'pnpm-workspace.yaml' },
  { manager: yarnBerryCurrent, lockfile: 'yarn.lock', settings: '.yarnrc.yml' },
])('$manager.label: a single project split later', ({ manager, lockfile, settings }) => {
  it(
    'keeps the lockfile at the root, installs once and verifies every package',
    { timeout: 900_000 },
    async () => {
      const installed = await installManager(manager);
      const path = [installed.bin, await corepackStub(parent), process.env.PATH ?? ''].join(
        delimiter,
      );
      const env = { ...cleanEnv(path), ...gitEnv, npm_config_prefer_offline: 'true' };
      const cwd = join(parent, manager.pm);
      mkdirSync(cwd, { recursive: true });
      const root = join(cwd, 'shop');
      // Installed (a real lockfile) but not verified: the split's verify is the proof here.
      const made = await runCli(
        ['shop', '--preset', 'minimal', '--pm', manager.pm, '--no-verify', '--yes'],
        { cwd, env, timeoutMs: 600_000 },
      );
      expect(made.exitCode, made.stderr).toBe(0);
      expect(existsSync(join(root, lockfile))).toBe(true);
      appendFileSync(join(root, 'src/routes/examples.ts'), '// my own line\n');
      await execa('git', ['add', '-A'], { cwd: root });
      await execa('git', ['commit', '-q', '-m', 'My own changes'], { cwd: root, env: gitEnv });
      const edited = readFileSync(join(root, 'src/routes/examples.ts'));

      const result = await runCli(['service', 'add', 'payments', '--json'], {
        cwd: root,
        env,
        timeoutMs: 900_000,
      });
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
      const doc = JSON.parse(result.stdout) as SplitDoc;
      expect(doc.split).toMatchObject({ app: 'services/shop', git: 'committed' });
      expect(readFileSync(join(root, 'services/shop/src/routes/examples.ts'))).toEqual(edited);
      // One lockfile and one settings file, at the root; none in the moved app.
      for (const file of [lockfile, settings]) {
        expect(existsSync(join(root, file)), file).toBe(true);
        expect(existsSync(join(root, 'services/shop', file)), file).toBe(false);
      }
      expect(doc.steps.filter((s) => s.status !== 'passed')).toEqual([]);
      const done = doc.steps.map((s) => `${s.target} ${s.name}`);
      expect(done).toContain('. install');
      for (const target of ['services/shop', 'services/payments']) {
        expect(done).toEqual(
          expect.arrayContaining([`${target} lint`, `${target} test`, `${target} boot`]),
        );
      }
      expect(done).toContain('packages/service-client build');
    },
  );
});
