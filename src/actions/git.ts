import { isOnPath } from '../pm.js';
import type { Output } from '../ui/output.js';

/**
 * `git init` and a first commit, unless git is missing or the folder is already inside a
 * repository. A missing git identity only skips the commit.
 */
export async function initGit(directory: string, out: Output): Promise<void> {
  if (!isOnPath('git')) {
    out.warn('git is not installed: skipped git init.');
    return;
  }
  const { execa } = await import('execa');
  const inside = await execa('git', ['rev-parse', '--is-inside-work-tree'], {
    cwd: directory,
    reject: false,
  });
  if (inside.exitCode === 0) return;
  await execa('git', ['init', '-q'], { cwd: directory });
  await execa('git', ['add', '-A'], { cwd: directory });
  const commit = await execa(
    'git',
    ['commit', '-q', '-m', 'Initial commit from create-scalable-express'],
    {
      cwd: directory,
      reject: false,
    },
  );
  if (commit.exitCode === 0) out.success('Initialized a git repository with a first commit');
  else
    out.warn(
      'Initialized a git repository; the first commit was skipped (set git user.name and user.email).',
    );
}
