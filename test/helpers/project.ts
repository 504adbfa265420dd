import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';

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
