import { hashContent, MANIFEST_FILE, serializeManifest, type Manifest } from '../manifest.js';
import { mergeStrategies } from '../merge/strategies.js';
import { renderProject, type FileTree, type ProjectInput } from '../render/render.js';
import { cliVersion } from '../version.js';

export interface FileChange {
  path: string;
  action: 'create' | 'update' | 'delete';
  /** New content (create/update). */
  content?: string;
  /** What is on disk now (update/delete), for diffs and rollback. */
  previous?: string;
}

/** A file the user edited that the change must rewrite or delete. */
export interface Conflict {
  path: string;
  current: string;
  generated: string | undefined;
}

export interface Plan {
  changes: FileChange[];
  conflicts: Conflict[];
  manifest: Manifest;
}

export interface PlanInput {
  /** The project as it should be after this run. */
  target: ProjectInput;
  /** The manifest on disk (add/remove), or undefined for a new project. */
  manifest?: Manifest;
  /** Reads a file of the project as it is on disk now; undefined when it does not exist. */
  readCurrent: (path: string) => Promise<string | undefined>;
  /** Rewrite conflicting files anyway, saving the user's version as `<file>.orig`. */
  force: boolean;
}

/**
 * The heart of `create`, `add` and `remove`: render the project as it was generated (from the
 * manifest) and as it must now be, and turn the difference into file changes against what is on
 * disk. A file the generator does not change is never touched; shared files are merged; a file
 * the user edited that must change is a conflict.
 */
export async function planChanges(input: PlanInput): Promise<Plan> {
  const { manifest, readCurrent, force } = input;
  const next = await renderProject(input.target);
  const previous: FileTree = manifest
    ? await renderProject({ ...manifest.project, features: manifest.features })
    : new Map();

  const changes: FileChange[] = [];
  const conflicts: Conflict[] = [];
  const hashes: Record<string, string> = {};
  const paths = [...new Set([...previous.keys(), ...next.keys()])].sort();

  for (const path of paths) {
    const before = previous.get(path);
    const generated = next.get(path);
    const current = await readCurrent(path);
    if (manifest && before === generated) {
      // The generator does not change this file: whatever the user did to it (even deleting it)
      // stays, and the recorded hash stays so that a later edit is still seen as an edit.
      const recorded = manifest.files[path];
      if (generated !== undefined && recorded) hashes[path] = recorded;
      continue;
    }
    const merge = manifest ? mergeStrategies[path] : undefined;
    const after =
      merge && current !== undefined && generated !== undefined
        ? await merge(current, before ?? '', generated)
        : generated;
    if (after !== undefined) hashes[path] = hashContent(after);
    if (current === after) continue;
    if (current === undefined) {
      if (after !== undefined) changes.push({ path, action: 'create', content: after });
      continue;
    }
    const edited = !merge && manifest?.files[path] !== hashContent(current);
    if (edited) {
      conflicts.push({ path, current, generated: after });
      if (!force) continue;
      changes.push({ path: `${path}.orig`, action: 'create', content: current });
    }
    changes.push(
      after === undefined
        ? { path, action: 'delete', previous: current }
        : { path, action: 'update', content: after, previous: current },
    );
  }

  const nextManifest: Manifest = {
    generator: 'create-scalable-express',
    version: cliVersion,
    project: {
      name: input.target.name,
      port: input.target.port,
      packageManager: input.target.packageManager,
    },
    features: [...input.target.features],
    files: Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => a.localeCompare(b))),
  };
  const manifestText = serializeManifest(nextManifest);
  const currentManifest = await readCurrent(MANIFEST_FILE);
  if (currentManifest !== manifestText) {
    changes.push(
      currentManifest === undefined
        ? { path: MANIFEST_FILE, action: 'create', content: manifestText }
        : {
            path: MANIFEST_FILE,
            action: 'update',
            content: manifestText,
            previous: currentManifest,
          },
    );
  }
  return { changes, conflicts, manifest: nextManifest };
}
