import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedError } from '../errors.js';

/**
 * One run at a time per project for everything that writes to it (`add`, `remove`, and the
 * journal recovery `list` does). The lock is a file, created whole or not at all (tryCreate),
 * holding the owner's pid and a token unique to this hold; a second run refuses at once. A lock whose process is gone (a
 * hard kill) is taken over.
 *
 * Taking over must have one winner: "remove it, then create mine" lets a run that saw the same
 * stale lock remove the fresh lock the first one just made. So the right to remove one stale lock
 * is itself a lock, named after that lock's pid and token (`<lock>.takeover-<pid>-<token>`) and
 * created the same way: of the runs that saw it, one creates that file; it checks the lock still holds
 * the same token (a late run finds a newer one and refuses), removes it and creates its own
 * (losing only to a run that found no lock at all). The takeover file holds its maker's pid
 * and token too, so one left by a run killed mid-takeover is taken over the same way: recursion
 * whose depth is the number of such kills.
 */
export const LOCK_FILE = '.scalable-express.lock';

/** The tokens of the locks this process holds: a lock with our own pid is ours only if listed. */
const held = new Set<string>();

interface Owner {
  pid: number;
  token: string;
}

function parse(text: string): Owner {
  const [pid = '', token = ''] = text.trim().split(/\s+/);
  return { pid: Number.parseInt(pid, 10), token };
}

function isRunning({ pid, token }: Owner): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // Our own pid: a hold of this process, or a lock left by an earlier process with the same pid.
  if (pid === process.pid) return held.has(token);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates `file` holding `me` unless it exists. The content is written to a file of our own first
 * and linked into place (link fails if the name exists), so no run ever reads a lock that is
 * still empty and takes it for a stale one.
 */
async function tryCreate(file: string, me: Owner): Promise<boolean> {
  const draft = `${file}.${me.pid}-${me.token}.tmp`;
  await writeFile(draft, `${me.pid} ${me.token}\n`);
  try {
    await link(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(draft, { force: true });
  }
}

/** The owner written in `file`, or undefined when there is no such file. */
async function readOwner(file: string): Promise<Owner | undefined> {
  try {
    return parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A name for a file next to the lock that stands for one hold of it. */
const takeoverFile = (file: string, { pid, token }: Owner): string =>
  `${file}.takeover-${`${pid}-${token}`.replace(/[^0-9A-Za-z-]/g, '')}`;

/**
 * Makes `file` hold `me`: created if absent, taken over if its owner is gone. Returns the running
 * owner that holds it instead, or null when another run won the same takeover.
 */
async function acquire(file: string, me: Owner): Promise<Owner | null | 'mine'> {
  if (await tryCreate(file, me)) return 'mine';
  const stale = await readOwner(file);
  // Released between the two calls: one more create decides.
  if (!stale) return (await tryCreate(file, me)) ? 'mine' : null;
  if (isRunning(stale)) return stale;
  const takeover = takeoverFile(file, stale);
  if ((await acquire(takeover, me)) !== 'mine') return null;
  try {
    // Holding the takeover file: no other run removes this stale lock. Is it still there?
    const now = await readOwner(file);
    if (now && (now.pid !== stale.pid || now.token !== stale.token)) return null;
    if (now) await rm(file, { force: true });
    return (await tryCreate(file, me)) ? 'mine' : null;
  } finally {
    await rm(takeover, { force: true });
  }
}

/** Takes the project's lock; call the returned function to release it. Throws FailedError. */
export async function lockProject(root: string): Promise<() => Promise<void>> {
  const file = join(root, LOCK_FILE);
  const me = { pid: process.pid, token: Math.random().toString(36).slice(2, 12) };
  held.add(me.token);
  const result = await acquire(file, me).catch((error: unknown) => {
    held.delete(me.token);
    throw error;
  });
  if (result === 'mine') {
    return async () => {
      await rm(file, { force: true });
      held.delete(me.token);
    };
  }
  held.delete(me.token);
  if (result) {
    throw new FailedError(
      `Another create-scalable-express run (pid ${result.pid}) is changing ${root}: wait for it to finish. (If no such process is running, delete ${LOCK_FILE}.)`,
    );
  }
  throw new FailedError(
    `Another create-scalable-express run is changing ${root}: wait for it to finish.`,
  );
}
