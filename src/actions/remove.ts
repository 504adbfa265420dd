import { featuresAfterRemove } from '../features/resolve.js';
import type { Output } from '../ui/output.js';
import {
  ordered,
  planFiles,
  runGrow,
  type GrowOptions,
  type GrowPlan,
  type GrowResult,
  type PlanGrow,
} from './grow.js';
import { refuseDeletingImported } from './remove-imports.js';

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
