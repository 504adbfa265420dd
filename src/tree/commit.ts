import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InterruptedError } from '../errors.js';
import type { FileChange } from './plan.js';

export interface CommitOptions {
  /** Called between files; throwing (e.g. InterruptedError after Ctrl-C) rolls everything back. */
  checkpoint?: () => void;
}

/**
 * Writes the planned changes in one go. If anything fails or the user interrupts, every file this
 * run created is removed, every file it changed or deleted is restored, and every folder it
 * created is removed again: the disk is left as it was.
 */
export async function commitChanges(
  root: string,
  changes: readonly FileChange[],
  options: CommitOptions = {},
): Promise<void> {
  const createdDirs: string[] = [];
  const done: FileChange[] = [];
  const ensureDir = async (dir: string): Promise<void> => {
    if (existsSync(dir)) return;
    await ensureDir(dirname(dir));
    await mkdir(dir);
    createdDirs.push(dir);
  };
  try {
    await ensureDir(root);
    for (const change of changes) {
      options.checkpoint?.();
      const file = join(root, change.path);
      if (change.action === 'delete') {
        await rm(file, { force: true });
      } else {
        await ensureDir(dirname(file));
        await writeFile(file, change.content ?? '');
      }
      done.push(change);
      await testWriteDelay();
    }
    options.checkpoint?.();
  } catch (error) {
    await rollback(root, done, createdDirs);
    throw error;
  }
}

async function rollback(
  root: string,
  done: readonly FileChange[],
  createdDirs: readonly string[],
): Promise<void> {
  for (const change of [...done].reverse()) {
    const file = join(root, change.path);
    if (change.action === 'create') await rm(file, { force: true });
    else await writeFile(file, change.previous ?? '');
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
export function interruptFlag(): { checkpoint: () => void; dispose: () => void } {
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    checkpoint: () => {
      if (interrupted) throw new InterruptedError();
    },
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
