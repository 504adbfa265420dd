import { featuresAfterAdd } from '../features/resolve.js';
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
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { deploymentFeatures } from '../options/services.js';
import { WORKSPACE_FILE } from '../workspace/manifest.js';
import { missingUserFiles } from './add-user-files.js';

/**
 * Planning for `add`: the features it brings (with what they require) and the file changes,
 * with the new features' examples for the user when they are not there yet.
 */
export const planAdd: PlanGrow = async (directory, manifest, requested, force) => {
  const installed = ordered(manifest.features);
  const target = featuresAfterAdd(installed, requested);
  const added = target.filter((id) => !installed.includes(id));
  refuseDeploymentInService(directory, added);
  const plan = added.length
    ? await planFiles(directory, manifest, target, force)
    : { changes: [], conflicts: [], manifest };
  plan.changes.push(...(await missingUserFiles(directory, manifest, target, added)));
  const grow: GrowPlan = { kind: 'add', manifest, requested, target, added, removed: [], plan };
  return grow;
};

/**
 * In a service of a workspace, deployment features belong to the workspace (its compose file,
 * gateway and kustomization): the service's own copy would be wrong there.
 */
function refuseDeploymentInService(directory: string, added: readonly string[]): void {
  const deployment = added.filter((id) => (deploymentFeatures as readonly string[]).includes(id));
  if (deployment.length === 0) return;
  for (let dir = dirname(resolve(directory)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, WORKSPACE_FILE)))
      throw new UsageError(
        `${deployment.join(', ')} belong to the workspace at ${dir}, not to one service: a workspace gets them at create (--features) for all its services.`,
      );
  }
}

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
