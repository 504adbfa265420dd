import { relative } from 'node:path';
import { FailedError, InterruptedError } from '../errors.js';
import type { PackageManager } from '../features/types.js';
import type { CreateOptions } from '../options/create.js';
import { splitWorkspaceFeatures } from '../options/services.js';
import { detectPackageManagerVersion, isOnPath } from '../pm.js';
import { commitChanges, interruptFlag } from '../tree/commit.js';
import { formatBytes, summarize, type ChangeSummary } from '../tree/describe.js';
import type { Output } from '../ui/output.js';
import type { WorkspaceService } from '../workspace/manifest.js';
import { runInService } from '../workspace/package-managers.js';
import { planWorkspace, withPorts } from '../workspace/render.js';
import { verifyWorkspace, type WorkspaceStep } from '../workspace/verify.js';
import { initGit, type GitResult } from './git.js';

export interface CreateWorkspaceResult {
  directory: string;
  name: string;
  kind: 'workspace';
  services: WorkspaceService[];
  /** In-app features of every service. */
  features: string[];
  /** Features at the root (the gateway). */
  deployment: string[];
  packageManager: string;
  dryRun: boolean;
  files: ChangeSummary[];
  steps: WorkspaceStep[];
  git?: GitResult;
}

/**
 * `create <name> --services a,b`: a workspace, planned whole in memory (workspace/render.ts),
 * written once, then installed at the root and verified service by service. The same promises as
 * createProject: nothing on disk before the plan is complete, a failure while writing removes
 * what this run wrote, a failure after keeps the files and says how to reproduce it.
 */
export async function createWorkspace(
  options: CreateOptions,
  serviceNames: readonly string[],
  out: Output,
  result?: Partial<CreateWorkspaceResult>,
): Promise<CreateWorkspaceResult> {
  const packageManagerVersion = detectPackageManagerVersion(options.packageManager);
  const { app, deployment } = splitWorkspaceFeatures(
    options.features,
    options.packageManager,
    packageManagerVersion,
  );
  const { changes, manifest } = await planWorkspace({
    directory: options.directory,
    name: options.name,
    port: options.port,
    packageManager: options.packageManager,
    packageManagerVersion,
    services: withPorts(serviceNames, options.port),
    features: app,
    deployment,
    force: options.force,
  });
  const res: CreateWorkspaceResult = Object.assign(result ?? {}, {
    directory: options.directory,
    name: options.name,
    kind: 'workspace' as const,
    services: manifest.services,
    features: app,
    deployment,
    packageManager: options.packageManager,
    dryRun: options.dryRun,
    files: summarize(changes),
    steps: [] as WorkspaceStep[],
  });
  const where = relative(process.cwd(), options.directory) || '.';

  if (options.dryRun) {
    out.info(`Dry run: would write ${changes.length} files to ${where}:`);
    for (const file of res.files)
      out.info(`  ${file.action.padEnd(6)} ${file.path} ${out.color.dim(formatBytes(file.bytes))}`);
    return res;
  }
  if (options.install && !isOnPath(options.packageManager)) {
    throw new FailedError(
      `${options.packageManager} is not installed: install it, or pass --no-install.`,
    );
  }

  const interrupt = interruptFlag();
  try {
    await out.step(`Writing ${changes.length} files to ${where}`, () =>
      commitChanges(options.directory, changes, { checkpoint: interrupt.checkpoint }),
    );
    try {
      await verifyWorkspace({
        directory: options.directory,
        packageManager: options.packageManager,
        services: serviceNames,
        install: options.install,
        verify: options.verify,
        verbose: options.verbose,
        out,
        checkpoint: interrupt.checkpoint,
        signal: interrupt.signal,
        results: res.steps,
      });
    } catch (error) {
      if (error instanceof FailedError || error instanceof InterruptedError)
        error.details.push(`The generated files are kept in ${where}.`);
      throw error;
    }
    if (options.git) res.git = await initGit(options.directory, out);
  } finally {
    interrupt.dispose();
  }
  return res;
}

/** What to do next, for a person. */
export function printWorkspaceSummary(result: CreateWorkspaceResult, out: Output): void {
  const where = relative(process.cwd(), result.directory) || '.';
  out.line();
  out.success(
    `Created the workspace ${out.color.bold(result.name)} with ${result.services.map((s) => s.name).join(', ')}${result.steps.some((s) => s.name === 'boot') ? ' — installed, and every service built, linted, tested and booted' : ''}.`,
  );
  out.info('Next:');
  if (where !== '.') out.info(`  cd ${where}`);
  const pm = result.packageManager as PackageManager;
  out.info(`  ${runInService(pm, result.services[0]?.name ?? '<service>', 'dev')}`);
  out.info(
    `  ${out.color.dim('Read README.md for the layout, the service client and the gateway.')}`,
  );
}
