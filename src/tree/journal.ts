import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileChange } from './plan.js';

/**
 * A write-ahead journal for `add` and `remove`, so that even a hard kill (SIGKILL, power loss)
 * in the middle of writing leaves a project the next run understands.
 *
 * Before any project file is touched, every change is recorded here with the file's old content
 * (null: it did not exist) and new content. The journal is deleted once the manifest (always the
 * last change) is written. If a journal is found at the start of `add`, `remove` or `list`, the
 * run was cut short: the project is rolled BACK to the old state (every file restored, every
 * file and folder the run created removed), which matches the old manifest still on disk or
 * restored from the journal. Rolling back (not forward) is the choice because the old state is
 * the one the user last saw verified.
 */
export const JOURNAL_FILE = '.scalable-express.journal.json';

export interface JournalEntry {
  path: string;
  /** Content before the run; null when the file did not exist. */
  old: string | null;
  /** Content after the run; null when the run deletes the file. */
  new: string | null;
}

export interface Journal {
  generator: 'create-scalable-express';
  command: string;
  startedAt: string;
  entries: JournalEntry[];
  /** Folders that did not exist before the run, outermost first. */
  createdDirs: string[];
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Records the changes about to be written. Old contents are read from disk (not taken from the
 * plan) so that restoring is exact. The file is written to a temporary name and renamed, so a
 * journal is either complete or absent.
 */
export async function writeJournal(
  root: string,
  command: string,
  changes: readonly FileChange[],
): Promise<Journal> {
  const entries: JournalEntry[] = [];
  const createdDirs = new Set<string>();
  for (const change of changes) {
    entries.push({
      path: change.path,
      old: await readIfExists(join(root, change.path)),
      new: change.action === 'delete' ? null : (change.content ?? ''),
    });
    const missing: string[] = [];
    for (let dir = dirname(change.path); dir !== '.' && dir !== '/'; dir = dirname(dir)) {
      if (!existsSync(join(root, dir))) missing.unshift(dir);
    }
    for (const dir of missing) createdDirs.add(dir);
  }
  const journal: Journal = {
    generator: 'create-scalable-express',
    command,
    startedAt: new Date().toISOString(),
    entries,
    createdDirs: [...createdDirs].sort((a, b) => a.length - b.length),
  };
  const file = join(root, JOURNAL_FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify(journal, null, 2)}\n`);
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

/**
 * If an interrupted run left a journal, rolls the project back to the state before that run and
 * deletes the journal. Returns undefined when there was nothing to recover. A journal that cannot
 * be parsed can only be a half-written one (the rename never happened, or was never reached):
 * no project file had been touched yet, so it is simply removed.
 */
export async function recoverJournal(root: string): Promise<Recovery | undefined> {
  const text = await readIfExists(join(root, JOURNAL_FILE));
  if (text === null) {
    await rm(join(root, `${JOURNAL_FILE}.tmp`), { force: true });
    return undefined;
  }
  let journal: Journal;
  try {
    journal = JSON.parse(text) as Journal;
    if (!Array.isArray(journal.entries)) throw new Error('no entries');
  } catch {
    await clearJournal(root);
    return { command: 'unknown', startedAt: '', restored: [] };
  }
  const restored: string[] = [];
  for (const entry of [...journal.entries].reverse()) {
    const file = join(root, entry.path);
    const now = await readIfExists(file);
    if (now === entry.old) continue;
    if (entry.old === null) {
      await rm(file, { force: true });
    } else {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, entry.old);
    }
    restored.push(entry.path);
  }
  for (const dir of [...(journal.createdDirs ?? [])].reverse()) {
    // Only empty folders go: anything the user put there since stays.
    await rmdir(join(root, dir)).catch(() => undefined);
  }
  await clearJournal(root);
  return { command: journal.command, startedAt: journal.startedAt, restored: restored.reverse() };
}
