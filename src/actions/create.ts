import { relative } from 'node:path';
import { FailedError, InterruptedError } from '../errors.js';
import { getFeature } from '../features/index.js';
import type { CreateOptions } from '../options/create.js';
import { detectPackageManagerVersion, isOnPath } from '../pm.js';
import { commitChanges, interruptFlag } from '../tree/commit.js';
import { formatBytes, summarize, type ChangeSummary } from '../tree/describe.js';
import { projectReader } from '../tree/files.js';
import { planChanges } from '../tree/plan.js';
import type { Output } from '../ui/output.js';
import { runSteps, type StepResult } from '../verify/steps.js';
import { initGit, type GitResult } from './git.js';

export interface CreateResult {
  directory: string;
  name: string;
  features: string[];
  packageManager: string;
  dryRun: boolean;
  files: ChangeSummary[];
  steps: StepResult[];
  /** Whether git was initialized and committed (absent with --no-git or --dry-run). */
  git?: GitResult;
}

/**
 * Generates a project: render in memory → write once → git → install → verify. Before writing,
 * nothing touches the disk; a failure or Ctrl-C while writing removes what this run wrote; a
 * failure after writing keeps the files and says how to reproduce it.
 */
export async function createProject(
  options: CreateOptions,
  out: Output,
  result?: Partial<CreateResult>,
): Promise<CreateResult> {
  const res: CreateResult = Object.assign(result ?? {}, {
    directory: options.directory,
    name: options.name,
    features: options.features,
    packageManager: options.packageManager,
    dryRun: options.dryRun,
    files: [],
    steps: [],
  });
  const plan = await planChanges({
    target: {
      name: options.name,
      port: options.port,
      packageManager: options.packageManager,
      packageManagerVersion: detectPackageManagerVersion(options.packageManager),
      features: options.features,
    },
    readCurrent: projectReader(options.directory),
    force: options.force,
  });
  res.files = summarize(plan.changes);
  const where = relative(process.cwd(), options.directory) || '.';

  if (options.dryRun) {
    out.info(`Dry run: would write ${plan.changes.length} files to ${where}:`);
    for (const file of res.files)
      out.info(`  ${file.action.padEnd(6)} ${file.path} ${out.color.dim(formatBytes(file.bytes))}`);
    return res;
  }

  if (options.install && !isOnPath(options.packageManager)) {
    throw new FailedError(
      `${options.packageManager} is not installed: install it, choose another with --pm, or pass --no-install.`,
    );
  }

  // Ctrl-C during install or verify kills the running step at once (see verify/steps.ts).
  const interrupt = interruptFlag();
  try {
    await out.step(`Writing ${plan.changes.length} files to ${where}`, () =>
      commitChanges(options.directory, plan.changes, { checkpoint: interrupt.checkpoint }),
    );
    for (const conflict of plan.conflicts)
      out.warn(`${conflict.path} existed: yours is kept as ${conflict.backup ?? '?'}`);
    try {
      await runSteps({
        ...options,
        out,
        checkpoint: interrupt.checkpoint,
        signal: interrupt.signal,
        results: res.steps,
      });
    } catch (error) {
      if (error instanceof FailedError) {
        error.details.push(`The generated files are kept in ${where}.`);
      }
      if (error instanceof InterruptedError) error.details.push(...howToGoOn(options, where));
      throw error;
    }
    if (options.git) res.git = await initGit(options.directory, out);
  } finally {
    interrupt.dispose();
  }
  return res;
}

/** After Ctrl-C during install or verify: the files stay; say how to finish or start over. */
function howToGoOn(options: CreateOptions, where: string): string[] {
  const pm = options.packageManager;
  const finish = `cd ${where} && ${pm} install${options.verify ? ` && ${pm} run build && ${pm} test` : ''}`;
  return [
    `The files are kept in ${where}.`,
    `To finish: ${finish}`,
    `To start over: remove ${where}, or re-run with --force.`,
  ];
}

/** What to do next, for a person. */
export function printSummary(options: CreateOptions, out: Output): void {
  const { color } = out;
  const where = relative(process.cwd(), options.directory) || '.';
  const run = (script: string): string =>
    options.packageManager === 'npm' ? `npm run ${script}` : `${options.packageManager} ${script}`;
  out.line();
  out.success(
    `Created ${color.bold(options.name)}${options.verify ? ' — installed, built, linted, tested and booted' : ''}.`,
  );
  const titles = options.features.map((id) => getFeature(id)?.title ?? id);
  out.info(`  Features: ${titles.length ? titles.join(', ') : 'none (minimal)'}`);
  out.line();
  out.info('Next:');
  if (where !== '.') out.info(`  cd ${where}`);
  if (!options.install) out.info(`  ${options.packageManager} install`);
  out.info(`  cp .env.example .env`);
  out.info(`  ${run('dev')}          ${color.dim(`# http://localhost:${options.port}/api/hello`)}`);
  out.info(`  ${run('test')}`);
  out.info(`  ${color.dim('Read README.md for how it is built, scaled and deployed.')}`);
}
