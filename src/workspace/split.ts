import { existsSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import type { PackageManager } from '../features/types.js';
import { MANIFEST_FILE, readManifest } from '../manifest.js';
import { deploymentFeatures, splitDeployment, validateServiceName } from '../options/services.js';
import { packageManagerCommands } from '../pm.js';
import { decodeUtf8, readProjectFile } from '../tree/files.js';
import { JOURNAL_FILE } from '../tree/journal.js';
import { LOCK_FILE } from '../tree/lock.js';
import type { FileChange } from '../tree/plan.js';
import { serializeWorkspace, WORKSPACE_FILE, type WorkspaceService } from './manifest.js';
import { checkWorkspacePackageManager, rootOnly, withoutRootOnly } from './package-managers.js';
import {
  clientFiles,
  renderRoot,
  renderService,
  workspaceManifest,
  type WorkspaceInput,
} from './render.js';

/**
 * "Split later": a single project made by create-scalable-express becomes a workspace. Planned
 * whole in memory, like every other change: each of its files moves to services/<its package
 * name>/ with the same bytes (pnpm's and Yarn's settings file stays: the root has the one copy;
 * the moved manifest stops listing it) (a create there and a delete here, so the commit's rollback and the
 * journal cover the move), the workspace's root files, the shared client and the new service are
 * added, and the workspace manifest is written last.
 */

/** Left where they are: git's own folder, the install (the root install replaces it), and the
 * lockfile (a workspace keeps its one lockfile at the root: the install there keeps the versions
 * it locked), plus this CLI's own lock and journal; with Yarn, its install state in .yarn/. */
function staysAtRoot(pm: PackageManager, version: string | undefined): Set<string> {
  const stays = ['.git', 'node_modules', 'package-lock.json', LOCK_FILE, JOURNAL_FILE];
  stays.push(packageManagerCommands(pm, version).lockfile);
  if (pm === 'yarn') stays.push('.yarn');
  return new Set(stays);
}

/** Top-level folders the workspace needs for itself. */
const WORKSPACE_FOLDERS = ['services', 'packages'];

export interface SplitMove {
  from: string;
  to: string;
}

export interface SplitPlan {
  /** The project as a service of the new workspace (its package name, its port). */
  app: WorkspaceService;
  /** The service added beside it. */
  service: WorkspaceService;
  workspace: WorkspaceInput;
  moves: SplitMove[];
  /** Files whose mode has an execute bit, to give it back after the move (by new path). */
  modes: Map<string, number>;
  /** Everything to write: the moves, the new files, the workspace manifest last. */
  changes: FileChange[];
  /** The non-move part of `changes`, for the plan shown to the user. */
  added: FileChange[];
}

/** The single project at `cwd` (its manifest, or the journal of a split cut short), if any. */
export function singleProjectAt(cwd: string): string | undefined {
  const dir = resolve(cwd);
  return existsSync(join(dir, MANIFEST_FILE)) || existsSync(join(dir, JOURNAL_FILE))
    ? dir
    : undefined;
}

/** Plans the split of the project at `root` with the new service `name`. Throws UsageError. */
export async function planSplit(root: string, name: string): Promise<SplitPlan> {
  const manifest = await readManifest(root);
  const { packageManager } = manifest.project;
  const pkg = await packageJson(root);
  const recorded = typeof pkg.packageManager === 'string' ? pkg.packageManager : '';
  const packageManagerVersion = recorded.split('@')[1] ?? manifest.project.packageManagerVersion;
  checkWorkspacePackageManager(packageManager, packageManagerVersion);
  const isDeployment = (id: string): boolean =>
    (deploymentFeatures as readonly string[]).includes(id);
  const refused = manifest.features.filter(
    (id) => isDeployment(id) && !(splitDeployment as readonly string[]).includes(id),
  );
  if (refused.length) {
    throw new UsageError(
      `This project has ${refused.join(', ')}, which a split does not carry over yet: remove ${refused.length > 1 ? 'them' : 'it'} first (create-scalable-express remove ${refused.join(' ')}), then split.`,
    );
  }

  const appName = typeof pkg.name === 'string' ? pkg.name : manifest.project.name;
  // Not the app's name: the root package and a service cannot share an npm name.
  const workspaceName = `${appName}-workspace`;
  try {
    validateServiceName(appName, workspaceName);
  } catch (error) {
    throw new UsageError(
      `The app's package name "${appName}" cannot name its folder in services/: ${(error as Error).message}`,
    );
  }
  validateServiceName(name, workspaceName);
  if (name === appName) {
    throw new UsageError(
      `"${name}" is the app itself (it becomes services/${name}): choose another name for the new service.`,
    );
  }
  for (const folder of WORKSPACE_FOLDERS) {
    if (existsSync(join(root, folder))) {
      throw new UsageError(
        `This project already has ${folder}/, which the workspace needs: rename it first, then split.`,
      );
    }
  }

  const app: WorkspaceService = { name: appName, port: manifest.project.port };
  const service: WorkspaceService = { name, port: app.port + 1 };
  const workspace: WorkspaceInput = {
    directory: root,
    name: workspaceName,
    port: app.port,
    packageManager,
    packageManagerVersion,
    services: [app, service],
    features: manifest.features.filter((id) => !isDeployment(id)),
    deployment: manifest.features.filter(isDeployment),
    force: false,
  };

  const moves: SplitMove[] = [];
  const modes = new Map<string, number>();
  const moved: FileChange[] = [];
  const old = new Map<string, Buffer>();
  // pnpm-workspace.yaml or .yarnrc.yml: the workspace's root has the one copy (written below).
  const rootFiles = rootOnly(packageManager);
  const stays = staysAtRoot(packageManager, packageManagerVersion);
  for (const path of await projectFiles(root, stays)) {
    const bytes = await readProjectFile(root, path);
    if (bytes === undefined) continue;
    old.set(path, bytes);
    if (rootFiles.includes(path)) continue;
    const to = `services/${appName}/${path}`;
    moves.push({ from: path, to });
    moved.push({ path: to, action: 'create', content: movedContent(path, bytes, packageManager) });
    const { mode } = await lstat(join(root, path));
    if (mode & 0o111) modes.set(to, mode & 0o777);
  }

  const added: FileChange[] = [];
  const root_ = await renderRoot(workspace);
  for (const [path, content] of root_) {
    const previous = old.get(path);
    added.push(
      previous === undefined
        ? { path, action: 'create', content }
        : { path, action: 'update', content, previous },
    );
  }
  for (const [path, content] of await clientFiles(workspace))
    added.push({ path: `packages/service-client/${path}`, action: 'create', content });
  for (const [path, content] of await renderService(workspace, service))
    added.push({ path, action: 'create', content });
  const deletes: FileChange[] = [...old]
    .filter(([path]) => !root_.has(path))
    .map(([path, previous]) => ({ path, action: 'delete', previous }));
  const manifestChange: FileChange = {
    path: WORKSPACE_FILE,
    action: 'create',
    content: serializeWorkspace(workspaceManifest(workspace)),
  };
  added.push(manifestChange);
  // The new tree first, the old paths after, the workspace manifest alone at the end (commitChanges
  // writes the last change last): a root without it was never split.
  const changes = [...moved, ...added.slice(0, -1), ...deletes, manifestChange];
  return { app, service, workspace, moves, modes, changes, added };
}

/** A file's bytes in its new place: the same, but the manifest no longer lists the root's files. */
function movedContent(path: string, bytes: Buffer, pm: PackageManager): Buffer | string {
  if (path !== MANIFEST_FILE || rootOnly(pm).length === 0) return bytes;
  const [change] = withoutRootOnly(
    [{ path, action: 'create', content: decodeUtf8(bytes) ?? '' }],
    pm,
  );
  return change?.content ?? bytes;
}

async function packageJson(root: string): Promise<Record<string, unknown>> {
  const bytes = await readProjectFile(root, 'package.json');
  try {
    const data: unknown = JSON.parse(decodeUtf8(bytes ?? Buffer.alloc(0)) ?? '');
    if (typeof data === 'object' && data !== null) return data as Record<string, unknown>;
  } catch {
    // the one line below
  }
  throw new UsageError(`${join(root, 'package.json')} is missing or not JSON: cannot split.`);
}

/**
 * Every file of the project that moves, as relative paths with '/'. A symbolic link is refused:
 * moving it byte-identically means moving the link, which the safe writer never creates.
 */
async function projectFiles(root: string, stays: ReadonlySet<string>): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const rel = relative(root, full).split(sep).join('/');
      if (dir === root && stays.has(entry.name)) continue;
      if (entry.isSymbolicLink()) {
        throw new UsageError(
          `${rel} is a symbolic link: move it out of the project (or replace it by a file) first, then split.`,
        );
      }
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.push(rel);
    }
  };
  await walk(root);
  return files.sort();
}
