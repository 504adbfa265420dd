import type { GrowPlan } from '../actions/grow.js';
import { readProjectFile } from '../tree/files.js';
import type { Conflict, FileChange } from '../tree/plan.js';
import { readWorkspaceInput } from './input.js';
import type { ServiceOfWorkspace } from './manifest.js';
import { withoutRootOnly } from './package-managers.js';
import { renderRoot, serviceDeployment, type WorkspaceInput } from './render.js';

/**
 * `add`/`remove` of an in-app feature in a service of a workspace: the workspace's deployment
 * follows. The root files (docker-compose.yml with its redis, postgres, worker and monitoring
 * entries, the root k8s/) and the service's own deployment files (Dockerfile, docker/, k8s/) are
 * rendered from every service's manifest before and after the move, and the difference joins the
 * service's changes in one plan, written at the workspace's root under one journal. A deployment
 * file the user edited (it is not what the CLI rendered before) is a conflict, as in the service.
 */

/** Every file of the deployment one service's features change: the root's and the service's. */
async function deploymentOf(input: WorkspaceInput, name: string): Promise<Map<string, string>> {
  const files = await renderRoot(input);
  const service = input.services.find((s) => s.name === name);
  if (service) {
    for (const [path, content] of await serviceDeployment(input, service))
      files.set(`services/${name}/${path}`, content);
  }
  return files;
}

/**
 * The grow plan with its paths under the workspace's root and the deployment's changes added
 * before the service's (whose manifest stays the last change). A service the workspace manifest
 * does not list is left as it was planned.
 */
export async function withWorkspaceDeployment(
  grow: GrowPlan,
  at: ServiceOfWorkspace,
  force: boolean,
): Promise<GrowPlan> {
  const { input: before } = await readWorkspaceInput(at.root, force);
  if (!before.services.some((s) => s.name === at.service)) return grow;
  const after: WorkspaceInput = {
    ...before,
    services: before.services.map((s) =>
      s.name === at.service ? { ...s, features: grow.target } : s,
    ),
  };
  const prefix = `services/${at.service}/`;
  const planned = new Set(grow.plan.changes.map((c) => `${prefix}${c.path}`));
  const old = await deploymentOf(before, at.service);
  const next = await deploymentOf(after, at.service);
  for (const path of planned) {
    old.delete(path);
    next.delete(path);
  }
  const { changes, conflicts } = await regenerated(at.root, old, next, force);
  const under = <T extends { path: string; backup?: string }>(item: T): T => ({
    ...item,
    path: `${prefix}${item.path}`,
    ...(item.backup ? { backup: `${prefix}${item.backup}` } : {}),
  });
  return {
    ...grow,
    root: at.root,
    plan: {
      ...grow.plan,
      changes: [
        ...changes,
        // pnpm-workspace.yaml, .yarnrc.yml: the root's (above), never a service's.
        ...withoutRootOnly(grow.plan.changes, before.packageManager).map(under),
      ],
      conflicts: [...conflicts, ...grow.plan.conflicts.map(under)],
    },
  };
}

/** `<path>.orig`, or `.orig.1`…: a backup never overwrites an older one. */
async function backupName(
  root: string,
  path: string,
  planned: readonly FileChange[],
): Promise<string> {
  for (let n = 0; ; n++) {
    const name = n === 0 ? `${path}.orig` : `${path}.orig.${n}`;
    if (planned.some((c) => c.path === name)) continue;
    if ((await readProjectFile(root, name)) === undefined) return name;
  }
}

/**
 * The changes that take generated files from `old` (what the CLI rendered last) to `next`, against
 * the disk under `root`: a file the user edited (or made where the CLI made none) is a conflict,
 * rewritten or deleted only with `force` (theirs saved as <file>.orig); a file they deleted is
 * made again if it is still generated.
 */
export async function regenerated(
  root: string,
  old: ReadonlyMap<string, string>,
  next: ReadonlyMap<string, string>,
  force: boolean,
): Promise<{ changes: FileChange[]; conflicts: Conflict[] }> {
  const changes: FileChange[] = [];
  const conflicts: Conflict[] = [];
  for (const path of [...new Set([...old.keys(), ...next.keys()])].sort()) {
    const previous = old.get(path);
    const generated = next.get(path);
    if (previous === generated) continue;
    const current = await readProjectFile(root, path);
    if (current === undefined) {
      if (generated !== undefined) changes.push({ path, action: 'create', content: generated });
      continue;
    }
    if (generated !== undefined && current.equals(Buffer.from(generated))) continue;
    if (previous === undefined || !current.equals(Buffer.from(previous))) {
      const conflict: Conflict = { path, current, generated };
      conflicts.push(conflict);
      if (!force) continue;
      conflict.backup = await backupName(root, path, changes);
      changes.push({ path: conflict.backup, action: 'create', content: current });
    }
    changes.push(
      generated === undefined
        ? { path, action: 'delete', previous: current }
        : { path, action: 'update', content: generated, previous: current },
    );
  }
  return { changes, conflicts };
}
