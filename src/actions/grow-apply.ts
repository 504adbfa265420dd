import { relative } from 'node:path';
import { FailedError, InterruptedError } from '../errors.js';
import { isOnPath } from '../pm.js';
import { commitChanges, interruptFlag } from '../tree/commit.js';
import { formatBytes, summarize, unifiedDiff } from '../tree/describe.js';
import { clearJournal, recoverJournal, writeJournal } from '../tree/journal.js';
import type { Conflict, FileChange } from '../tree/plan.js';
import type { Output } from '../ui/output.js';
import { runSteps } from '../verify/steps.js';
import { quote, type GrowOptions, type GrowPlan, type GrowResult } from './grow.js';

async function changeDiff(change: FileChange): Promise<string> {
  return unifiedDiff(
    change.path,
    change.action === 'create' ? undefined : change.previous,
    change.action === 'delete' ? undefined : change.content,
  );
}

async function conflictError(conflicts: readonly Conflict[]): Promise<FailedError> {
  const paths = conflicts.map((c) => c.path);
  const details: string[] = [];
  for (const conflict of conflicts) {
    details.push(
      conflict.reason
        ? `${conflict.path}: ${conflict.reason}; what it must become (+):`
        : `${conflict.path}: your version (-) and what it must become (+):`,
      ...(await unifiedDiff(conflict.path, conflict.current, conflict.generated))
        .trimEnd()
        .split('\n'),
      '',
    );
  }
  details.push(
    'Nothing was written. Merge the change by hand, or re-run with --force to overwrite',
    'these files (your version is saved beside each as <file>.orig, or .orig.1, .orig.2… if taken).',
  );
  return new FailedError(
    `${paths.length === 1 ? 'A file you edited must change' : `${paths.length} files you edited must change`}: ${paths.join(', ')}.`,
    details,
  );
}

/** Writes the changes under the journal: a hard kill at any point is rolled back by the next run. */
async function writeJournaled(
  directory: string,
  kind: string,
  changes: readonly FileChange[],
  checkpoint: () => void,
): Promise<void> {
  await writeJournal(directory, kind, changes);
  try {
    await commitChanges(directory, changes, { checkpoint });
  } catch (error) {
    // commitChanges rolled back; replaying the journal checks that (and finishes the job if its
    // rollback failed half-way). If even that fails, the journal stays for the next run.
    await recoverJournal(directory).catch(() => undefined);
    throw error;
  }
  await clearJournal(directory);
}

/**
 * The one apply step of `add` and `remove`: report, dry-run or refuse on conflicts, then the
 * journaled write, then install and verify with the manifest's package manager.
 */
export async function applyGrow(
  grow: GrowPlan,
  options: GrowOptions,
  out: Output,
  res: GrowResult,
): Promise<void> {
  const { kind, manifest, requested, target, added, removed, plan } = grow;
  if (kind === 'add') res.added = added;
  else res.removed = removed;
  const installed = manifest.features;
  const already = requested.filter((id) =>
    kind === 'add' ? installed.includes(id) : !installed.includes(id),
  );
  if (already.length) {
    out.info(
      `${quote(already)} ${already.length > 1 ? 'are' : 'is'} ${kind === 'add' ? 'already installed' : 'not installed'}.`,
    );
  }
  if (added.length === 0 && removed.length === 0) {
    out.info('Nothing to do: no file changed.');
    return;
  }

  res.files = summarize(plan.changes);
  res.conflicts = plan.conflicts.map((c) => c.path);
  const where = relative(process.cwd(), options.directory) || '.';
  const project = where === '.' ? 'this project' : where;
  const moved = kind === 'add' ? added : removed;
  const extra = kind === 'add' ? added.filter((id) => !requested.includes(id)) : [];
  out.info(
    `${kind === 'add' ? 'Adding' : 'Removing'} ${quote(moved)}${extra.length ? ` (${quote(extra)} ${extra.length > 1 ? 'are' : 'is'} required)` : ''} ${kind === 'add' ? 'to' : 'from'} ${project}.`,
  );

  if (options.dryRun) {
    const diffs = await Promise.all(plan.changes.map(changeDiff));
    res.diff = diffs.join('');
    if (!options.json) process.stdout.write(res.diff);
    out.info(`Dry run: would change ${plan.changes.length} files; nothing written.`);
    if (plan.conflicts.length && !options.force) throw await conflictError(plan.conflicts);
    return;
  }
  if (plan.conflicts.length && !options.force) throw await conflictError(plan.conflicts);

  const pm = manifest.project.packageManager;
  if (options.install && !isOnPath(pm)) {
    throw new FailedError(
      `${pm} (the project's package manager) is not installed: install it, or pass --no-install.`,
    );
  }

  const interrupt = interruptFlag();
  try {
    await out.step(`Writing ${plan.changes.length} files`, () =>
      writeJournaled(grow.root ?? options.directory, kind, plan.changes, interrupt.checkpoint),
    );
    for (const file of res.files)
      out.info(`  ${file.action.padEnd(6)} ${file.path} ${out.color.dim(formatBytes(file.bytes))}`);
    for (const conflict of plan.conflicts)
      out.warn(`${conflict.path} was overwritten: yours is kept as ${conflict.backup ?? '?'}`);
    res.features = target;
    try {
      await runSteps({
        directory: options.directory,
        packageManager: pm,
        install: options.install,
        verify: options.install && options.verify,
        verbose: options.verbose,
        out,
        checkpoint: interrupt.checkpoint,
        signal: interrupt.signal,
        results: res.steps,
      });
    } catch (error) {
      // A failed or interrupted step leaves the new files in place: say how to undo them.
      if (error instanceof FailedError || error instanceof InterruptedError) {
        error.details.push(
          `The files are changed in ${where}; undo with: create-scalable-express ${kind === 'add' ? 'remove' : 'add'} ${moved.join(' ')}${where === '.' ? '' : ` --cwd ${where}`}`,
        );
      }
      throw error;
    }
  } finally {
    interrupt.dispose();
  }
  out.success(
    `${kind === 'add' ? 'Added' : 'Removed'} ${quote(moved)}${options.install && options.verify ? ' — installed, built, linted, tested and booted' : ''}.`,
  );
}
