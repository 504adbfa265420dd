import { join } from 'node:path';
import type { PackageManager } from '../features/types.js';
import type { Output } from '../ui/output.js';
import { runSteps, type StepResult } from '../verify/steps.js';

/** A verify step of one part of the workspace ('.' is the root's install). */
export interface WorkspaceStep extends StepResult {
  target: string;
}

export interface WorkspaceVerifyOptions {
  directory: string;
  packageManager: PackageManager;
  services: readonly string[];
  /** Verify the shared client too (default true; `service add` leaves it as it was). */
  client?: boolean;
  install: boolean;
  verify: boolean;
  verbose: boolean;
  out: Output;
  checkpoint: () => void;
  signal?: AbortSignal;
  /** Filled as steps finish, so a failure still reports the steps before it. */
  results: WorkspaceStep[];
}

/**
 * The workspace's test-build, made of the single-project steps (verify/steps.ts): one install at
 * the root; then the shared client is built, type-checked, linted and tested (the services import
 * its build); then every service is built, type-checked, linted, tested and booted on its own.
 */
export async function verifyWorkspace(options: WorkspaceVerifyOptions): Promise<WorkspaceStep[]> {
  const run = async (
    target: string,
    part: { install: boolean; verify: boolean; boot: boolean },
  ): Promise<void> => {
    const results: StepResult[] = [];
    const label = target === '.' ? '' : `${target}: `;
    const out: Output = {
      ...options.out,
      step: (text, work) => options.out.step(`${label}${text}`, work),
    };
    try {
      await runSteps({
        directory: join(options.directory, target),
        packageManager: options.packageManager,
        verbose: options.verbose,
        checkpoint: options.checkpoint,
        signal: options.signal,
        out,
        results,
        ...part,
      });
    } finally {
      options.results.push(...results.map((r) => ({ target, ...r })));
    }
  };
  if (options.install) await run('.', { install: true, verify: false, boot: false });
  if (!options.verify) return options.results;
  if (options.client !== false)
    await run('packages/service-client', { install: false, verify: true, boot: false });
  for (const service of options.services) {
    await run(`services/${service}`, { install: false, verify: true, boot: true });
  }
  return options.results;
}
