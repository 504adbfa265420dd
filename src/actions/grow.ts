import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { allFeatures } from '../features/index.js';
import { MANIFEST_FILE, readManifest, type Manifest } from '../manifest.js';
import type { ChangeSummary } from '../tree/describe.js';
import { projectReader } from '../tree/files.js';
import { recoverJournal, type Recovery } from '../tree/journal.js';
import { lockProject } from '../tree/lock.js';
import { planChanges, type Plan } from '../tree/plan.js';
import type { Output } from '../ui/output.js';
import type { StepResult } from '../verify/steps.js';
import { serviceOfWorkspace } from '../workspace/manifest.js';
import { applyGrow } from './grow-apply.js';

/**
 * What `add` and `remove` share. Each command plans its move (actions/add.ts, actions/remove.ts);
 * runGrow takes the project's lock, rolls back an interrupted earlier run, plans, and hands the
 * plan to the one apply step (actions/grow-apply.ts).
 */

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

/** A planned move of the project from its manifest's features to `target`. */
export interface GrowPlan {
  kind: 'add' | 'remove';
  manifest: Manifest;
  /** The features named on the command line, without duplicates. */
  requested: string[];
  target: string[];
  added: string[];
  removed: string[];
  /** The file changes; empty when no feature changes. */
  plan: Plan;
  /**
   * Where the plan's paths start and its journal is kept, when not the project: the workspace's
   * root for a service of a workspace, whose deployment follows (workspace/grow.ts).
   */
  root?: string;
}

export type PlanGrow = (
  directory: string,
  manifest: Manifest,
  requested: string[],
  force: boolean,
) => Promise<GrowPlan>;

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

/**
 * Runs `work` holding the project's lock (tree/lock.ts). Outside a project (no manifest) it is
 * the manifest's own clear error, and no lock file is made.
 */
export async function withProjectLock<T>(directory: string, work: () => Promise<T>): Promise<T> {
  if (!existsSync(join(directory, MANIFEST_FILE))) await readManifest(directory);
  const release = await lockProject(directory);
  try {
    return await work();
  } finally {
    await release();
  }
}

/** The ids in the features' canonical order. */
export function ordered(ids: Iterable<string>): string[] {
  const set = new Set(ids);
  return allFeatures.filter((f) => set.has(f.id)).map((f) => f.id);
}

export const quote = (ids: readonly string[]): string => ids.map((id) => `"${id}"`).join(', ');

/** The file changes that move the project in `directory` from its manifest to `target`. */
export async function planFiles(
  directory: string,
  manifest: Manifest,
  target: readonly string[],
  force: boolean,
): Promise<Plan> {
  return planChanges({
    target: { ...manifest.project, features: [...target] },
    manifest,
    readCurrent: projectReader(directory),
    force,
  });
}

/** `add` and `remove`: lock, recover, plan with `planGrow`, apply. */
export async function runGrow(
  planGrow: PlanGrow,
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
  return withProjectLock(options.directory, async () => {
    // In a service of a workspace, the workspace's root too: its deployment files change with it.
    const workspace = serviceOfWorkspace(options.directory);
    const releaseRoot = workspace ? await lockProject(workspace.root) : undefined;
    try {
      const fromRoot = workspace ? await recoverProject(workspace.root, out) : undefined;
      const recovered = (await recoverProject(options.directory, out)) ?? fromRoot;
      if (recovered) res.recovered = recovered;
      const manifest = await readManifest(options.directory);
      res.features = ordered(manifest.features);
      const requested = [...new Set(options.features)];
      let grow = await planGrow(options.directory, manifest, requested, options.force);
      if (workspace && (grow.added.length || grow.removed.length)) {
        const { withWorkspaceDeployment } = await import('../workspace/grow.js');
        grow = await withWorkspaceDeployment(grow, workspace, options.force);
      }
      await applyGrow(grow, options, out, res);
      return res;
    } finally {
      await releaseRoot?.();
    }
  });
}
