import { UsageError } from '../errors.js';
import { getFeature } from '../features/index.js';
import { resolveFeatures } from '../features/resolve.js';
import type { Output } from '../ui/output.js';
import {
  ordered,
  planFiles,
  quote,
  runGrow,
  validate,
  type GrowOptions,
  type GrowPlan,
  type GrowResult,
  type PlanGrow,
} from './grow.js';

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

/** Planning for `add`: the features it brings (with what they require) and the file changes. */
export const planAdd: PlanGrow = async (directory, manifest, requested, force) => {
  const installed = ordered(manifest.features);
  const target = featuresAfterAdd(installed, requested);
  const added = target.filter((id) => !installed.includes(id));
  const plan = added.length
    ? await planFiles(directory, manifest, target, force)
    : { changes: [], conflicts: [], manifest };
  const grow: GrowPlan = { kind: 'add', manifest, requested, target, added, removed: [], plan };
  return grow;
};

/**
 * `add <feature...>`: adds features (and the features they require) to an existing project,
 * merging shared files so the user's own changes survive.
 */
export function addFeatures(
  options: GrowOptions,
  out: Output,
  result?: Partial<GrowResult>,
): Promise<GrowResult> {
  return runGrow(planAdd, options, out, result);
}
