import { lstatSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Every project path the CLI touches goes through here first, whether it comes from a template
 * or from a file a repository could carry (the journal, the manifest): it must be relative, stay
 * inside the project, and no part of it inside the project may be a symbolic link. Links are
 * never followed, not even with --force, so nothing outside the project is ever read or written.
 */

/** The lexical rule: a relative path of plain segments ('a/b.ts'), no '..', '.', '' or '\'. */
export function isPlainRelativePath(path: unknown): path is string {
  if (typeof path !== 'string' || path === '' || path.includes('\0') || path.includes('\\'))
    return false;
  if (isAbsolute(path) || posix.isAbsolute(path)) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** What lstat says about one path inside the project. */
type Kind = 'link' | 'absent' | 'other';

/** Remembered lstat answers for several checks in one go (see commitChanges). */
export type LstatCache = Map<string, Kind>;

// Synchronous: one lstat costs less than a round trip through the thread pool, and a new
// project's check asks about a few dozen folders (see commitChanges).
function kindOf(file: string): Kind {
  try {
    const stats = lstatSync(file, { throwIfNoEntry: false });
    if (!stats) return 'absent';
    return stats.isSymbolicLink() ? 'link' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return 'absent';
    throw error;
  }
}

/**
 * The first part of `path` (relative to root) that is a symbolic link, or undefined. With a
 * cache, each folder is asked once for all the paths under it.
 */
export function findSymlink(
  root: string,
  path: string,
  cache: LstatCache = new Map(),
): string | undefined {
  const segments = path.split('/');
  for (let i = 1; i <= segments.length; i++) {
    const part = segments.slice(0, i).join('/');
    let kind = cache.get(part);
    if (!kind) {
      kind = kindOf(join(root, part));
      cache.set(part, kind);
    }
    if (kind === 'link') return part;
    if (kind === 'absent') return undefined; // the rest does not exist
  }
  return undefined;
}

/**
 * Checks `path` and returns it joined to `root`. `source` names the file the path was read from
 * (the journal, the manifest) for the error message; `cache` shares lstat answers between the
 * checks of one run. Throws UsageError (exit 2).
 */
export function safeProjectPath(
  root: string,
  path: unknown,
  source?: string,
  cache?: LstatCache,
): string {
  if (!isPlainRelativePath(path)) {
    throw new UsageError(
      `${source ?? 'The change'} names ${JSON.stringify(path)}, which is not a plain path inside the project: nothing was changed.`,
    );
  }
  const link = findSymlink(root, path, cache);
  if (link !== undefined) {
    throw new UsageError(
      `${link} is a symbolic link${source ? ` (in a path named by ${source})` : ''}: create-scalable-express never reads or writes through links, not even with --force. Replace it with a regular file or folder; nothing was changed.`,
    );
  }
  return join(root, path);
}
