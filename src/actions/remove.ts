import { UsageError } from '../errors.js';
import { getFeature } from '../features/index.js';
import type { Output } from '../ui/output.js';
import {
  ordered,
  planFiles,
  runGrow,
  validate,
  type GrowOptions,
  type GrowPlan,
  type GrowResult,
  type PlanGrow,
} from './grow.js';
import { refuseDeletingImported } from './remove-imports.js';

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

/**
 * Planning for `remove`: the features that go and the file changes, refused (before anything is
 * written) when the user's own code imports a file that would be deleted.
 */
export const planRemove: PlanGrow = async (directory, manifest, requested, force) => {
  const installed = ordered(manifest.features);
  const target = featuresAfterRemove(installed, requested);
  const removed = installed.filter((id) => !target.includes(id));
  const plan = removed.length
    ? await planFiles(directory, manifest, target, force)
    : { changes: [], conflicts: [], manifest };
  await refuseDeletingImported(directory, plan, removed);
  const grow: GrowPlan = { kind: 'remove', manifest, requested, target, added: [], removed, plan };
  return grow;
};

/** `remove <feature...>`: the reverse of add; refuses to remove a feature another requires. */
export function removeFeatures(
  options: GrowOptions,
  out: Output,
  result?: Partial<GrowResult>,
): Promise<GrowResult> {
  return runGrow(planRemove, options, out, result);
}
