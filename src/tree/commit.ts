import { existsSync } from 'node:fs';
import { mkdir, open, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FailedError, InterruptedError } from '../errors.js';
import type { FileChange } from './plan.js';
import { safeProjectPath, type LstatCache } from './safe-path.js';

export interface CommitOptions {
  /** Called between files; throwing (e.g. InterruptedError after Ctrl-C) rolls everything back. */
  checkpoint?: () => void;
}

/** Files written at once: enough to hide disk latency, few enough for any open-files limit. */
const PARALLEL_WRITES = 8;

/** What one write did, so that it can be undone exactly. */
type Undo = { created: string } | { restore: string; previous: Buffer };

/**
 * Writes the planned changes in one go. Before anything is touched every path is checked (inside
 * the project, no symbolic link on the way: see safe-path.ts). Files are written several at a
 * time, the manifest (the plan's last change) alone at the end. If anything fails or the user
 * interrupts, every file this run created (even one only partly written, e.g. disk full) is
 * removed, every file it changed or deleted gets its old bytes back, and every folder it created
 * (the project folder too) is removed again: the disk is left as it was.
 */
export async function commitChanges(
  root: string,
  changes: readonly FileChange[],
  options: CommitOptions = {},
): Promise<void> {
  // All at once, each folder asked once (a new project's files share a dozen top folders: one
  // lstat per path and segment was a fifth of `create`'s CPU time); the first bad path in the
  // plan's order is the one reported.
  const cache: LstatCache = new Map();
  const checks = await Promise.allSettled(
    changes.map((change) => safeProjectPath(root, change.path, undefined, cache)),
  );
  for (const check of checks) if (check.status === 'rejected') throw check.reason;
  const createdDirs: string[] = [];
  const undo: Undo[] = [];
  const dirs = new Map<string, Promise<void>>();
  // Parent first: in a folder this run made, nothing can exist yet, so a new project's folders
  // cost one mkdir each and no existence check (those checks were ~4% of `create`'s CPU).
  const made = new Set<string>();
  const ensureDir = (dir: string): Promise<void> => {
    let pending = dirs.get(dir);
    if (!pending) {
      pending = (async () => {
        const parent = dirname(dir);
        if (parent !== dir) await ensureDir(parent);
        if (!made.has(parent) && existsSync(dir)) return;
        await mkdir(dir);
        made.add(dir);
        createdDirs.push(dir);
      })();
      dirs.set(dir, pending);
    }
    return pending;
  };
  const apply = async (change: FileChange): Promise<void> => {
    options.checkpoint?.();
    const file = join(root, change.path);
    try {
      await applyOne(change, file);
    } catch (error) {
      throw writeFailed(change.path, error);
    }
    await testWriteDelay();
  };
  const applyOne = async (change: FileChange, file: string): Promise<void> => {
    if (change.action === 'delete') {
      if (change.previous) undo.push({ restore: file, previous: change.previous });
      await rm(file, { force: true });
    } else if (change.action === 'create') {
      await ensureDir(dirname(file));
      // 'wx': never replace a file that appeared since planning, nor follow a link.
      const handle = await open(file, 'wx');
      undo.push({ created: file });
      try {
        await handle.writeFile(change.content ?? '');
      } finally {
        await handle.close();
      }
    } else {
      undo.push({ restore: file, previous: change.previous ?? Buffer.alloc(0) });
      await writeFile(file, change.content ?? '');
    }
  };
  try {
    await ensureDir(root);
    const last = changes.at(-1);
    await inParallel(changes.slice(0, -1), PARALLEL_WRITES, apply);
    if (last) await apply(last);
    options.checkpoint?.();
  } catch (error) {
    await rollback(undo, createdDirs);
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

/**
 * Runs `task` on every item, at most `limit` at a time. After the first failure no new task
 * starts, and the failure is thrown only once every started task has settled, so that the
 * rollback sees everything that was written.
 */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/** Undoes in reverse order; one step failing does not stop the others. */
async function rollback(undo: readonly Undo[], createdDirs: readonly string[]): Promise<void> {
  for (const step of [...undo].reverse()) {
    if ('created' in step) await rm(step.created, { force: true }).catch(() => undefined);
    else await writeFile(step.restore, step.previous).catch(() => undefined);
  }
  for (const dir of [...createdDirs].reverse()) await rmdir(dir).catch(() => undefined);
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
