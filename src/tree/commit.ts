import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { FailedError, InterruptedError } from '../errors.js';
import type { FileChange } from './plan.js';
import { safeProjectPath, type LstatCache } from './safe-path.js';

export interface CommitOptions {
  /** Called between files; throwing (e.g. InterruptedError after Ctrl-C) rolls everything back. */
  checkpoint?: () => void;
}

/** What one write did, so that it can be undone exactly. */
type Undo = { created: string } | { restore: string; previous: Buffer };

/**
 * Writes the planned changes in one go. Before anything is touched every path is checked (inside
 * the project, no symbolic link on the way: see safe-path.ts). Files are written one after the
 * other, the manifest (the plan's last change) at the end. If anything fails or the user
 * interrupts, every file this run created (even one only partly written, e.g. disk full) is
 * removed, every file it changed or deleted gets its old bytes back, and every folder it created
 * (the project folder too) is removed again: the disk is left as it was.
 *
 * Synchronous calls: a new project is ~130 small files, and the thread pool's round trips cost
 * more than the writes (a full-preset create: about a quarter of its CPU time). The event loop
 * gets a turn before each file, so that Ctrl-C (a signal handler) reaches the checkpoint.
 */
export async function commitChanges(
  root: string,
  changes: readonly FileChange[],
  options: CommitOptions = {},
): Promise<void> {
  // Each folder asked once; the first bad path in the plan's order is the one reported.
  const cache: LstatCache = new Map();
  for (const change of changes) safeProjectPath(root, change.path, undefined, cache);
  const createdDirs: string[] = [];
  const undo: Undo[] = [];
  // Parent first: in a folder this run made, nothing can exist yet, so a new project's folders
  // cost one mkdir each and no existence check.
  const made = new Set<string>();
  const ensured = new Set<string>();
  const ensureDir = (dir: string): void => {
    if (ensured.has(dir)) return;
    ensured.add(dir);
    const parent = dirname(dir);
    if (parent !== dir) ensureDir(parent);
    if (!made.has(parent) && existsSync(dir)) return;
    mkdirSync(dir);
    made.add(dir);
    createdDirs.push(dir);
  };
  const applyOne = (change: FileChange, file: string): void => {
    if (change.action === 'delete') {
      if (change.previous) undo.push({ restore: file, previous: change.previous });
      rmSync(file, { force: true });
    } else if (change.action === 'create') {
      ensureDir(dirname(file));
      // 'wx': never replace a file that appeared since planning, nor follow a link.
      const fd = openSync(file, 'wx');
      undo.push({ created: file });
      try {
        writeFileSync(fd, change.content ?? '');
      } finally {
        closeSync(fd);
      }
    } else {
      undo.push({ restore: file, previous: change.previous ?? Buffer.alloc(0) });
      writeFileSync(file, change.content ?? '');
    }
  };
  try {
    ensureDir(root);
    for (const change of changes) {
      await giveSignalsATurn();
      options.checkpoint?.();
      try {
        applyOne(change, join(root, change.path));
      } catch (error) {
        throw writeFailed(change.path, error);
      }
      await testWriteDelay();
    }
    await giveSignalsATurn();
    options.checkpoint?.();
  } catch (error) {
    rollback(undo, createdDirs);
    throw error;
  }
}

/** A failed write (disk full, a folder where a file goes…) as one line naming the file. */
function writeFailed(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return error;
  return new FailedError(
    `Could not write ${path} (${code}: ${(error as Error).message.split(',')[0]?.replace(`${code}: `, '')}). Nothing was changed: what this run wrote was removed or restored.`,
  );
}

/** Undoes in reverse order; one step failing does not stop the others. */
function rollback(undo: readonly Undo[], createdDirs: readonly string[]): void {
  const attempt = (step: () => void): void => {
    try {
      step();
    } catch {
      // keep undoing the rest
    }
  };
  for (const step of [...undo].reverse()) {
    if ('created' in step) attempt(() => rmSync(step.created, { force: true }));
    else attempt(() => writeFileSync(step.restore, step.previous));
  }
  for (const dir of [...createdDirs].reverse()) attempt(() => rmdirSync(dir));
}

/** One turn of the event loop: its poll phase runs the SIGINT handler (interruptFlag). */
async function giveSignalsATurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Test seam: CSE_TEST_WRITE_DELAY_MS slows writing down so that a test can press Ctrl-C while
 * files are being written. Unset in normal use.
 */
async function testWriteDelay(): Promise<void> {
  const ms = Number(process.env.CSE_TEST_WRITE_DELAY_MS ?? 0);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Tracks Ctrl-C while a step runs so it can stop at a safe point. */
export function interruptFlag(): {
  checkpoint: () => void;
  /** Aborted by the same signals: stops a running install or verify step at once. */
  signal: AbortSignal;
  dispose: () => void;
} {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    checkpoint: () => {
      if (abort.signal.aborted) throw new InterruptedError();
    },
    signal: abort.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
