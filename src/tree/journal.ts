import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { decodeUtf8, readProjectFile } from './files.js';
import type { FileChange } from './plan.js';
import { isPlainRelativePath, safeProjectPath } from './safe-path.js';

/**
 * A write-ahead journal for `add` and `remove`, so that even a hard kill (SIGKILL, power loss)
 * in the middle of writing leaves a project the next run understands.
 *
 * Before any project file is touched, every change is recorded here with the file's old bytes
 * (base64, so that any content comes back exactly; null: it did not exist). The journal is
 * deleted once the manifest (always the last change) is written. If a journal is found at the
 * start of `add`, `remove` or `list`, the run was cut short: the project is rolled BACK to the old
 * state (every file restored, every file and folder the run created removed), which matches the
 * old manifest still on disk or restored from the journal. Rolling back (not forward) is the
 * choice because the old state is the one the user last saw verified.
 *
 * A journal may also arrive with a cloned repository, so it is trusted no more than any file:
 * every path in it is checked (safe-path.ts) before anything is touched.
 */
export const JOURNAL_FILE = '.scalable-express.journal.json';
const JOURNAL_FORMAT = 2;

export interface JournalEntry {
  path: string;
  /** The file's bytes before the run, base64; null when the file did not exist. */
  oldBase64: string | null;
}

export interface Journal {
  generator: 'create-scalable-express';
  format: typeof JOURNAL_FORMAT;
  command: string;
  startedAt: string;
  entries: JournalEntry[];
  /** Folders that did not exist before the run, outermost first. */
  createdDirs: string[];
}

/**
 * Records the changes about to be written. Old contents are read from disk (not taken from the
 * plan) so that restoring is exact. The file is written to a temporary name (created afresh, so a
 * planted link is never followed) and renamed, so a journal is either complete or absent.
 */
export async function writeJournal(
  root: string,
  command: string,
  changes: readonly FileChange[],
): Promise<Journal> {
  const entries: JournalEntry[] = [];
  const createdDirs = new Set<string>();
  for (const change of changes) {
    const old = await readProjectFile(root, change.path);
    entries.push({ path: change.path, oldBase64: old ? old.toString('base64') : null });
    const missing: string[] = [];
    for (let dir = dirname(change.path); dir !== '.' && dir !== '/'; dir = dirname(dir)) {
      if (!existsSync(join(root, dir))) missing.unshift(dir);
    }
    for (const dir of missing) createdDirs.add(dir);
  }
  const journal: Journal = {
    generator: 'create-scalable-express',
    format: JOURNAL_FORMAT,
    command,
    startedAt: new Date().toISOString(),
    entries,
    createdDirs: [...createdDirs].sort((a, b) => a.length - b.length),
  };
  const file = join(root, JOURNAL_FILE);
  await rm(`${file}.tmp`, { force: true });
  const handle = await open(`${file}.tmp`, 'wx');
  try {
    await handle.writeFile(`${JSON.stringify(journal, null, 2)}\n`);
  } finally {
    await handle.close();
  }
  await rename(`${file}.tmp`, file);
  return journal;
}

/** Deletes the journal: the run is complete (or fully rolled back). */
export async function clearJournal(root: string): Promise<void> {
  await rm(join(root, JOURNAL_FILE), { force: true });
  await rm(join(root, `${JOURNAL_FILE}.tmp`), { force: true });
}

export interface Recovery {
  command: string;
  startedAt: string;
  /** Paths restored to (or removed back to) their state before the interrupted run. */
  restored: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The journal's own fields, checked; every path in it is checked later against the disk. */
function validJournal(data: unknown): data is Journal {
  if (!isObject(data) || data.generator !== 'create-scalable-express') return false;
  if (data.format !== JOURNAL_FORMAT || typeof data.command !== 'string') return false;
  if (!Array.isArray(data.entries) || !Array.isArray(data.createdDirs)) return false;
  const entriesOk = data.entries.every(
    (e: unknown) =>
      isObject(e) &&
      isPlainRelativePath(e.path) &&
      (e.oldBase64 === null || typeof e.oldBase64 === 'string'),
  );
  return entriesOk && data.createdDirs.every((dir: unknown) => isPlainRelativePath(dir));
}

/**
 * If an interrupted run left a journal, rolls the project back to the state before that run and
 * deletes the journal. Returns undefined when there was nothing to recover. A journal that cannot
 * be parsed can only be a half-written one (the rename never happened, or was never reached):
 * no project file had been touched yet, so it is simply removed. A journal that parses but names
 * a path outside the project (or through a link), or is not one this CLI writes, is refused with
 * a UsageError before anything is touched: it was not written by this CLI.
 */
export async function recoverJournal(root: string): Promise<Recovery | undefined> {
  const source = `the journal ${JOURNAL_FILE}`;
  const bytes = await readProjectFile(root, JOURNAL_FILE, source);
  if (bytes === undefined) {
    await rm(join(root, `${JOURNAL_FILE}.tmp`), { force: true });
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(decodeUtf8(bytes) ?? '');
  } catch {
    await clearJournal(root);
    return { command: 'unknown', startedAt: '', restored: [] };
  }
  if (!validJournal(data)) {
    throw new UsageError(
      `${join(root, JOURNAL_FILE)} is not a journal this CLI wrote (or names a path outside the project): nothing was changed. Delete it if you did not make it.`,
    );
  }
  const journal = data;
  // Every path first, the disk only after: a bad path must leave everything untouched.
  for (const path of [...journal.entries.map((e) => e.path), ...journal.createdDirs])
    safeProjectPath(root, path, source);

  const restored: string[] = [];
  for (const entry of [...journal.entries].reverse()) {
    const file = join(root, entry.path);
    const old = entry.oldBase64 === null ? undefined : Buffer.from(entry.oldBase64, 'base64');
    // A folder where the run meant to create a file: the run never wrote there, nothing to undo.
    const now = await readProjectFile(root, entry.path, source).catch((error: unknown) => {
      if (old === undefined && (error as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw error;
    });
    if (now === undefined ? old === undefined : old !== undefined && now.equals(old)) continue;
    if (old === undefined) {
      await rm(file, { force: true });
    } else {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, old);
    }
    restored.push(entry.path);
  }
  for (const dir of [...journal.createdDirs].reverse()) {
    // Only empty folders go: anything the user put there since stays.
    await rmdir(join(root, dir)).catch(() => undefined);
  }
  await clearJournal(root);
  return { command: journal.command, startedAt: journal.startedAt, restored: restored.reverse() };
}
