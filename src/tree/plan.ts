import { hashContent, MANIFEST_FILE, serializeManifest, type Manifest } from '../manifest.js';
import { mergeStrategies, type MergeFile } from '../merge/strategies.js';
import {
  createOnlyPaths,
  renderProject,
  type FileTree,
  type ProjectInput,
} from '../render/render.js';
import { cliVersion } from '../version.js';
import { decodeUtf8 } from './files.js';
import { comparePaths } from './path-order.js';

export interface FileChange {
  path: string;
  action: 'create' | 'update' | 'delete';
  /** New content (create/update): generated text, or the user's own bytes for a backup. */
  content?: string | Buffer;
  /** The bytes on disk now (update/delete), for diffs and rollback. */
  previous?: Buffer;
}

/** A file the user edited (or that cannot be merged) that the change must rewrite or delete. */
export interface Conflict {
  path: string;
  current: Buffer;
  generated: string | undefined;
  /** Why a shared file could not be merged (not UTF-8, not valid JSON/YAML). */
  reason?: string;
  /** With --force: where the user's version is saved (`<file>.orig`, or `.orig.1`…). */
  backup?: string;
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
  /** Reads a file of the project as it is on disk now (tree/files.ts); undefined: none. */
  readCurrent: (path: string) => Promise<Buffer | undefined>;
  /** Rewrite conflicting files anyway, saving the user's version as `<file>.orig` (or .orig.N). */
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
  const userOwned = createOnlyPaths(input.target);
  if (manifest) {
    for (const path of createOnlyPaths({ ...manifest.project, features: manifest.features }))
      userOwned.add(path);
  }

  for (const path of paths) {
    // Written by create for the user to own: never recorded, and later runs leave it alone.
    if (manifest && userOwned.has(path)) continue;
    const before = previous.get(path);
    const generated = next.get(path);
    if (manifest && before === generated) {
      // The generator does not change this file: whatever the user did to it (even deleting it)
      // stays, and the recorded hash stays so that a later edit is still seen as an edit.
      const recorded = manifest.files[path];
      if (generated !== undefined && recorded) hashes[path] = recorded;
      continue;
    }
    const current = await readCurrent(path);
    const merge = manifest ? mergeStrategies[path] : undefined;
    let after = generated;
    let unmergeable: string | undefined;
    if (merge && current !== undefined && generated !== undefined) {
      const merged = await mergeBytes(merge, current, before ?? '', generated);
      if ('text' in merged) after = merged.text;
      else unmergeable = merged.reason;
    }
    if (after !== undefined && !userOwned.has(path)) hashes[path] = hashContent(after);
    if (current !== undefined && after !== undefined && current.equals(Buffer.from(after)))
      continue;
    if (current === undefined) {
      if (after !== undefined) changes.push({ path, action: 'create', content: after });
      continue;
    }
    const edited = merge
      ? unmergeable !== undefined
      : manifest?.files[path] !== hashContent(current);
    if (edited) {
      const conflict: Conflict = { path, current, generated: after };
      if (unmergeable) conflict.reason = unmergeable;
      conflicts.push(conflict);
      if (!force) continue;
      conflict.backup = await freeBackupName(path, readCurrent, changes);
      changes.push({ path: conflict.backup, action: 'create', content: current });
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
      packageManagerVersion: input.target.packageManagerVersion,
    },
    features: [...input.target.features],
    files: Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => comparePaths(a, b))),
  };
  const manifestText = serializeManifest(nextManifest);
  const currentManifest = await readCurrent(MANIFEST_FILE);
  if (!currentManifest?.equals(Buffer.from(manifestText))) {
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

/**
 * Merges the user's bytes with the generator's change. The user's file must be valid UTF-8 and
 * parse as its format; otherwise it is not rewritten (a conflict), so its bytes are never lost.
 */
async function mergeBytes(
  merge: MergeFile,
  current: Buffer,
  before: string,
  after: string,
): Promise<{ text: string } | { reason: string }> {
  const text = decodeUtf8(current);
  if (text === undefined) return { reason: 'it is not valid UTF-8, so it cannot be merged' };
  try {
    return { text: await merge(text, before, after) };
  } catch (error) {
    return { reason: `it cannot be merged: ${(error as Error).message.split('\n')[0]}` };
  }
}

/** `<path>.orig`, or `.orig.1`, `.orig.2`…: an older backup is never overwritten. */
async function freeBackupName(
  path: string,
  readCurrent: PlanInput['readCurrent'],
  planned: readonly FileChange[],
): Promise<string> {
  for (let n = 0; ; n++) {
    const name = n === 0 ? `${path}.orig` : `${path}.orig.${n}`;
    if (planned.some((c) => c.path === name)) continue;
    if ((await readCurrent(name)) === undefined) return name;
  }
}
