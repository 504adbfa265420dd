import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isPlainRelativePath, safeProjectPath } from './safe-path.js';

/**
 * The one way to read a file of the user's project: as bytes (never decoded and re-encoded, so
 * that backups, rollbacks and recovery are byte-exact), only inside the project and never through
 * a symbolic link. A missing file is undefined; every other failure is an error.
 */
export async function readProjectFile(
  root: string,
  path: string,
  source?: string,
): Promise<Buffer | undefined> {
  const file = safeProjectPath(root, path, source);
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * A reader bound to one project, as planChanges wants it. A folder that does not exist yet (the
 * usual `create`) holds no files: the disk is asked once, not twice per planned file.
 */
export function projectReader(root: string): (path: string) => Promise<Buffer | undefined> {
  let rootExists: boolean | undefined;
  return async (path) => {
    rootExists ??= existsSync(root);
    if (!rootExists && isPlainRelativePath(path)) return undefined;
    return readProjectFile(root, path);
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of `bytes` if they are valid UTF-8 (a BOM is kept), else undefined. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
