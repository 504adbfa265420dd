import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { FailedError, UsageError } from '../errors.js';
import { allFeatures, getFeature, selectableFeatures } from '../features/index.js';
import { resolveFeatures } from '../features/resolve.js';
import type { PackageManager } from '../features/types.js';
import { readManifest, type Manifest } from '../manifest.js';
import { isOnPath } from '../pm.js';
import { commitChanges, interruptFlag } from '../tree/commit.js';
import { formatBytes, summarize, unifiedDiff, type ChangeSummary } from '../tree/describe.js';
import { clearJournal, recoverJournal, writeJournal, type Recovery } from '../tree/journal.js';
import { planChanges, type Conflict, type FileChange, type Plan } from '../tree/plan.js';
import { closest } from '../ui/suggest.js';
import type { Output } from '../ui/output.js';
import { runSteps, type StepResult } from '../verify/steps.js';

/** Options of `add` and `remove`, validated. */
export interface GrowOptions {
  /** The features named on the command line. */
  features: string[];
  /** The project folder (absolute). */
  directory: string;
  dryRun: boolean;
  force: boolean;
  install: boolean;
  verify: boolean;
  json: boolean;
  verbose: boolean;
}

export interface GrowResult {
  directory: string;
  /** The project's features after the run. */
  features: string[];
  added?: string[];
  removed?: string[];
  dryRun: boolean;
  files: ChangeSummary[];
  /** Files the user edited that this run must change (overwritten only with --force). */
  conflicts: string[];
  steps: StepResult[];
  /** With --dry-run: the unified diff of every change. */
  diff?: string;
  /** A previous run that was cut short and rolled back first. */
  recovered?: Recovery;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Rolls back an interrupted earlier run (see tree/journal.ts) and says so. */
export async function recoverProject(
  directory: string,
  out: Output,
): Promise<Recovery | undefined> {
  const recovery = await recoverJournal(directory);
  if (recovery) {
    out.warn(
      `A previous "${recovery.command}" was interrupted: the project was rolled back to its state before it` +
        (recovery.restored.length ? ` (${recovery.restored.length} files restored).` : '.'),
    );
  }
  return recovery;
}

function unknownFeature(id: string): UsageError {
  const valid = selectableFeatures.map((f) => f.id);
  const hint = closest(id, valid);
  return new UsageError(
    `Unknown feature "${id}".${hint ? ` Did you mean "${hint}"?` : ''} Valid features: ${valid.join(', ')}.`,
  );
}

function validate(ids: readonly string[]): void {
  if (ids.length === 0) throw new UsageError('Name at least one feature (see `list`).');
  for (const id of ids) {
    const feature = getFeature(id);
    if (!feature || feature.hidden) throw unknownFeature(id);
  }
}

function ordered(ids: Iterable<string>): string[] {
  const set = new Set(ids);
  return allFeatures.filter((f) => set.has(f.id)).map((f) => f.id);
}

const quote = (ids: readonly string[]): string => ids.map((id) => `"${id}"`).join(', ');

/** The features the project must have after `add`. Throws UsageError on conflicts. */
export function featuresAfterAdd(
  installed: readonly string[],
  requested: readonly string[],
): string[] {
  validate(requested);
  const wanted = resolveFeatures(requested);
  for (const id of wanted) {
    const clash = (getFeature(id)?.conflicts ?? []).filter((other) => installed.includes(other));
    const reverse = installed.filter((other) => getFeature(other)?.conflicts?.includes(id));
    const against = [...new Set([...clash, ...reverse])];
    if (against.length) {
      throw new UsageError(
        `Cannot add "${id}": it conflicts with the installed ${quote(against)}. Remove ${against.length > 1 ? 'them' : 'it'} first (create-scalable-express remove ${against.join(' ')}).`,
      );
    }
  }
  return resolveFeatures([...installed, ...wanted]);
}

/** The features the project keeps after `remove`. Throws UsageError when one is still required. */
export function featuresAfterRemove(
  installed: readonly string[],
  requested: readonly string[],
): string[] {
  validate(requested);
  const removing = new Set(requested.filter((id) => installed.includes(id)));
  const remaining = installed.filter((id) => !removing.has(id));
  for (const holder of remaining) {
    const needs = (getFeature(holder)?.requires ?? []).filter((dep) => removing.has(dep));
    for (const dep of needs) {
      throw new UsageError(
        `Cannot remove "${dep}": the installed "${holder}" requires it. Remove "${holder}" too, or keep "${dep}".`,
      );
    }
  }
  return ordered(remaining);
}

/** Plans the move of the project in `directory` from its manifest's features to `target`. */
export async function planGrow(
  directory: string,
  manifest: Manifest,
  target: readonly string[],
  force: boolean,
): Promise<Plan> {
  return planChanges({
    target: { ...manifest.project, features: target },
    manifest,
    readCurrent: (path) => readIfExists(join(directory, path)),
    force,
  });
}

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
      `${conflict.path}: your version (-) and what it must become (+):`,
      ...(await unifiedDiff(conflict.path, conflict.current, conflict.generated))
        .trimEnd()
        .split('\n'),
      '',
    );
  }
  details.push(
    'Nothing was written. Merge the change by hand, or re-run with --force to overwrite',
    'these files (your version is saved beside each as <file>.orig).',
  );
  return new FailedError(
    `${paths.length === 1 ? 'A file you edited must change' : `${paths.length} files you edited must change`}: ${paths.join(', ')}.`,
    details,
  );
}

/**
 * `add` and `remove`: the project moves from the features in its manifest to `target`. Same
 * engine as `create` (planChanges), then a journal, one commit with rollback, and the manifest's
 * package manager for install and verify.
 */
export async function growProject(
  kind: 'add' | 'remove',
  options: GrowOptions,
  out: Output,
  result?: Partial<GrowResult>,
): Promise<GrowResult> {
  const res: GrowResult = Object.assign(result ?? {}, {
    directory: options.directory,
    features: [] as string[],
    dryRun: options.dryRun,
    files: [] as ChangeSummary[],
    conflicts: [] as string[],
    steps: [] as StepResult[],
  });
  const recovered = await recoverProject(options.directory, out);
  if (recovered) res.recovered = recovered;
  const manifest = await readManifest(options.directory);
  const installed = ordered(manifest.features);
  res.features = installed;
  const requested = [...new Set(options.features)];

  const target =
    kind === 'add'
      ? featuresAfterAdd(installed, requested)
      : featuresAfterRemove(installed, requested);
  const added = target.filter((id) => !installed.includes(id));
  const removed = installed.filter((id) => !target.includes(id));
  if (kind === 'add') res.added = added;
  else res.removed = removed;

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
    return res;
  }

  const plan = await planGrow(options.directory, manifest, target, options.force);
  res.files = summarize(plan.changes);
  res.conflicts = plan.conflicts.map((c) => c.path);
  const where = relative(process.cwd(), options.directory) || '.';
  const project = where === '.' ? 'this project' : where;
  const verb = kind === 'add' ? 'Adding' : 'Removing';
  const extra = kind === 'add' ? added.filter((id) => !requested.includes(id)) : [];
  out.info(
    `${verb} ${quote(kind === 'add' ? added : removed)}${extra.length ? ` (${quote(extra)} ${extra.length > 1 ? 'are' : 'is'} required)` : ''} ${kind === 'add' ? 'to' : 'from'} ${project}.`,
  );

  if (options.dryRun) {
    const diffs = await Promise.all(plan.changes.map(changeDiff));
    res.diff = diffs.join('');
    if (!options.json) process.stdout.write(res.diff);
    out.info(`Dry run: would change ${plan.changes.length} files; nothing written.`);
    if (plan.conflicts.length && !options.force) throw await conflictError(plan.conflicts);
    return res;
  }
  if (plan.conflicts.length && !options.force) throw await conflictError(plan.conflicts);

  const pm: PackageManager = manifest.project.packageManager;
  if (options.install && !isOnPath(pm)) {
    throw new FailedError(
      `${pm} (the project's package manager) is not installed: install it, or pass --no-install.`,
    );
  }

  const interrupt = interruptFlag();
  try {
    await out.step(`Writing ${plan.changes.length} files`, async () => {
      await writeJournal(options.directory, kind, plan.changes);
      try {
        await commitChanges(options.directory, plan.changes, { checkpoint: interrupt.checkpoint });
      } catch (error) {
        // commitChanges rolled back; replaying the journal checks that (and finishes the job if
        // its rollback failed half-way). If even that fails, the journal stays for the next run.
        await recoverJournal(options.directory).catch(() => undefined);
        throw error;
      }
      await clearJournal(options.directory);
    });
    for (const file of res.files)
      out.info(`  ${file.action.padEnd(6)} ${file.path} ${out.color.dim(formatBytes(file.bytes))}`);
    for (const conflict of plan.conflicts)
      out.warn(`${conflict.path} was overwritten: yours is kept as ${conflict.path}.orig`);
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
        results: res.steps,
      });
    } catch (error) {
      if (error instanceof FailedError) {
        error.details.push(
          `The files are changed in ${where}; undo with: create-scalable-express ${kind === 'add' ? 'remove' : 'add'} ${(kind === 'add' ? added : removed).join(' ')}${where === '.' ? '' : ` --cwd ${where}`}`,
        );
      }
      throw error;
    }
  } finally {
    interrupt.dispose();
  }
  out.success(
    `${kind === 'add' ? 'Added' : 'Removed'} ${quote(kind === 'add' ? added : removed)}${options.install && options.verify ? ' — installed, built, linted, tested and booted' : ''}.`,
  );
  return res;
}
