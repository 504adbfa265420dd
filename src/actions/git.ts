import { isOnPath } from '../pm.js';
import type { Output } from '../ui/output.js';

/** What happened to git, for the --json document. */
export interface GitResult {
  status: 'committed' | 'initialized' | 'skipped';
  /** Why it was skipped, or why the first commit failed (git's own first line). */
  reason?: string;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? 'no output'
  );
}

/**
 * `git init` and a first commit, unless git is missing or the folder is already inside a
 * repository (then the user's repository takes the files, and we say so). A failed commit
 * keeps the repository and says why, in git's words.
 */
export async function initGit(directory: string, out: Output): Promise<GitResult> {
  if (!isOnPath('git')) {
    out.warn('git is not installed: skipped git init.');
    return { status: 'skipped', reason: 'git is not installed' };
  }
  const { execa } = await import('execa');
  const inside = await execa('git', ['rev-parse', '--show-toplevel'], {
    cwd: directory,
    reject: false,
  });
  if (inside.exitCode === 0) {
    const reason = `inside the git repository ${String(inside.stdout).trim()}`;
    out.info(`Skipped git init: ${reason}.`);
    return { status: 'skipped', reason };
  }
  await execa('git', ['init', '-q'], { cwd: directory });
  await execa('git', ['add', '-A'], { cwd: directory });
  const commit = await execa(
    'git',
    ['commit', '-q', '-m', 'Initial commit from create-scalable-express'],
    { cwd: directory, reject: false, all: true },
  );
  if (commit.exitCode === 0) {
    out.success('Initialized a git repository with a first commit');
    return { status: 'committed' };
  }
  const reason = firstLine(String(commit.all ?? ''));
  out.warn(
    `Initialized a git repository, but the first commit failed: ${reason} (fix that, then: git commit -m "Initial commit").`,
  );
  return { status: 'initialized', reason };
}
