import { execa } from 'execa';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The GitHub Actions workflow every generated project gets (.github/workflows/ci.yml): its shape
 * for each package manager, its formatting under the project's prettier, and — the real check —
 * its `run:` steps executed in order in a fresh checkout of a generated npm project (no
 * node_modules, no dist), as the runner would on the Node it runs here.
 */

const parent = tempDir('cse-ci-');
const NAME = 'svc';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the workflow is checked field by field */
async function generate(
  pm: string,
  extra: string[] = ['--no-install'],
  version?: string,
): Promise<string> {
  const cwd = join(parent, version ? `${pm}@${version}` : pm);
  await mkdir(cwd, { recursive: true });
  const result = await runCli([NAME, '--pm', pm, '--yes', '--no-git', ...extra], {
    cwd,
    // As if `<pm> create` launched it: the version it records, whatever is installed here.
    env: {
      npm_config_prefer_offline: 'true',
      ...(version
        ? { npm_config_user_agent: `${pm}/${version} npm/? node/v24.0.0 linux x64` }
        : {}),
    },
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return join(cwd, NAME);
}

async function workflow(dir: string): Promise<any> {
  return parse(await readFile(join(dir, '.github', 'workflows', 'ci.yml'), 'utf8'));
}

describe('generated CI workflow', () => {
  const dirs: Record<string, string> = {};

  beforeAll(async () => {
    dirs.pnpm = await generate('pnpm', undefined, '10.34.8');
    dirs.yarn = await generate('yarn', undefined, '1.22.22');
    dirs.berry = await generate('yarn', undefined, '4.18.1');
    // npm: a real install, so that the lockfile exists as the user commits it.
    dirs.npm = await generate('npm', ['--no-verify']);
  }, 300_000);

  it('runs on push and pull requests, on Node 22 and 24, with read-only permissions', async () => {
    for (const [pm, dir] of Object.entries(dirs)) {
      const wf = await workflow(dir);
      expect(Object.keys(wf.on).sort(), pm).toEqual(['pull_request', 'push']);
      expect(wf.permissions).toEqual({ contents: 'read' });
      const job = wf.jobs.test;
      expect(job.strategy.matrix['node-version']).toEqual([22, 24]);
      const setup = (job.steps as Step[]).find((s) => s.uses?.startsWith('actions/setup-node@'));
      expect(setup?.with?.['node-version']).toBe('${{ matrix.node-version }}');
      expect((job.steps as Step[])[0]?.uses).toMatch(/^actions\/checkout@v\d+$/);
    }
  });

  it('installs from the lockfile, then builds, type-checks, lints and tests, with the project package manager', async () => {
    const checks = (pm: string): string[] => [
      `${pm} run build`,
      `${pm} run typecheck`,
      `${pm} run lint`,
      `${pm} test`,
    ];
    const expected: Record<string, string[]> = {
      npm: ['npm ci', ...checks('npm')],
      pnpm: ['pnpm install --frozen-lockfile', ...checks('pnpm')],
      yarn: ['corepack enable', 'yarn install --frozen-lockfile', ...checks('yarn')],
      berry: ['corepack enable', 'yarn install --immutable', ...checks('yarn')],
    };
    for (const [pm, dir] of Object.entries(dirs)) {
      const steps = (await workflow(dir)).jobs.test.steps as Step[];
      expect(
        steps.filter((s) => s.run).map((s) => s.run),
        pm,
      ).toEqual(expected[pm]);
    }
    // pnpm must be on PATH before setup-node caches its store; its version comes from the
    // packageManager field (action-setup v6 fails when both are given).
    const pnpmSteps = (await workflow(dirs.pnpm ?? '')).jobs.test.steps as Step[];
    const uses = pnpmSteps.map((s) => s.uses ?? '');
    expect(uses.findIndex((u) => u.startsWith('pnpm/action-setup@'))).toBeLessThan(
      uses.findIndex((u) => u.startsWith('actions/setup-node@')),
    );
    expect(pnpmSteps.find((s) => s.uses?.startsWith('pnpm/action-setup@'))?.with).toBeUndefined();
    const pnpmPkg = JSON.parse(await readFile(join(dirs.pnpm ?? '', 'package.json'), 'utf8'));
    expect(pnpmPkg.packageManager).toBe('pnpm@10.34.8');
  });

  it('is formatted as the project prettier wants it (its lint step checks it)', async () => {
    const prettier = join(process.cwd(), 'node_modules', '.bin', 'prettier');
    for (const [pm, dir] of Object.entries(dirs)) {
      const result = await execa(prettier, ['--check', '.github/workflows/ci.yml'], {
        cwd: dir,
        reject: false,
      });
      expect(result.exitCode, `${pm}: ${result.stdout}${result.stderr}`).toBe(0);
    }
  });

  it('its run steps pass in a fresh checkout of an npm project (npm ci from the committed lockfile)', async () => {
    const checkout = join(parent, 'checkout');
    // What git would check out: everything but the ignored node_modules and dist.
    await cp(dirs.npm ?? '', checkout, {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|dist)([/\\]|$)/.test(src.slice(parent.length)),
    });
    const steps = ((await workflow(checkout)).jobs.test.steps as Step[]).filter((s) => s.run);
    for (const step of steps) {
      const env: Record<string, string | undefined> = { ...process.env, CI: 'true' };
      delete env.NODE_ENV; // vitest sets it in this process; a runner has none
      delete env.VITEST;
      const result = await execa('sh', ['-c', step.run ?? ''], {
        cwd: checkout,
        env: { ...env, npm_config_prefer_offline: 'true' },
        extendEnv: false,
        all: true,
        reject: false,
        stdin: 'ignore',
        timeout: 300_000,
      });
      expect(result.exitCode, `${step.run}:\n${String(result.all).slice(-3000)}`).toBe(0);
    }
  }, 600_000);
});
