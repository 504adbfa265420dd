import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedError } from '../errors.js';

/**
 * One run at a time per project for everything that writes to it (`add`, `remove`, and the
 * journal recovery `list` does). The lock is a file created with O_EXCL holding the owner's pid;
 * a second run refuses at once. A lock whose process is gone (a hard kill) is taken over.
 */
export const LOCK_FILE = '.scalable-express.lock';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryCreate(file: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx');
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Takes the project's lock; call the returned function to release it. Throws FailedError. */
export async function lockProject(root: string): Promise<() => Promise<void>> {
  const file = join(root, LOCK_FILE);
  const release = () => rm(file, { force: true });
  if (await tryCreate(file)) return release;
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
    throw new FailedError(
      `Another create-scalable-express run (pid ${pid}) is changing ${root}: wait for it to finish. (If no such process is running, delete ${LOCK_FILE}.)`,
    );
  }
  // Its owner is gone (or it holds no pid): take it over. If another run takes it over at the
  // same moment, exactly one of the two O_EXCL creates wins.
  await rm(file, { force: true });
  if (await tryCreate(file)) return release;
  throw new FailedError(
    `Another create-scalable-express run is changing ${root}: wait for it to finish.`,
  );
}
