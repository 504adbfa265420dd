import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { buildShared } from './shared-modules.js';

export interface GeneratedProject {
  dir: string;
  /** The --json result document. */
  result: {
    ok: boolean;
    features: string[];
    files: { path: string; action: string; bytes: number }[];
    steps: { name: string; status: string; durationMs: number }[];
  };
}

/**
 * Generates a project with the real CLI and its full test-build (a real install from the
 * registry, build, lint, test, boot) and fails the test with the CLI's output if anything fails.
 * `npm_config_prefer_offline` lets npm reuse its cache between tests; it still installs for real.
 */
export async function generateVerified(
  parent: string,
  name: string,
  args: string[],
): Promise<GeneratedProject> {
  const result = await runCli([name, '--yes', '--no-git', '--json', ...args], {
    cwd: parent,
    env: { npm_config_prefer_offline: 'true' },
  });
  if (result.exitCode !== 0) {
    throw new Error(`create failed (exit ${result.exitCode}):\n${result.stderr}`);
  }
  const doc = JSON.parse(result.stdout) as GeneratedProject['result'];
  expect(doc.steps.map((s) => s.name)).toEqual([
    'install',
    'build',
    'typecheck',
    'lint',
    'test',
    'boot',
  ]);
  return { dir: join(parent, name), result: doc };
}

/**
 * Generates a project with the real CLI, without its install and test-build, and builds it
 * against the shared install of every feature's packages (test/helpers/shared-modules.ts): for
 * the e2e files that drive a feature at run time against real servers. The real install and
 * the CLI's own test-build are proven by test/e2e/base.test.ts, the presets in matrix.test.ts,
 * grow.test.ts, pm-managers.test.ts and services.test.ts; the combinations' own tests by the
 * matrix. Saves an install, a typecheck, a lint and a test run per file.
 */
export async function generateBuilt(
  parent: string,
  name: string,
  args: string[],
): Promise<GeneratedProject> {
  const result = await runCli([name, '--yes', '--no-git', '--no-install', '--json', ...args], {
    cwd: parent,
  });
  if (result.exitCode !== 0) {
    throw new Error(`create failed (exit ${result.exitCode}):\n${result.stderr}`);
  }
  const doc = JSON.parse(result.stdout) as GeneratedProject['result'];
  const dir = join(parent, name);
  await buildShared(dir);
  return { dir, result: doc };
}
