import { chmod, rmdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { FailedError, InterruptedError, UsageError } from '../errors.js';
import { isOnPath } from '../pm.js';
import { commitChanges, interruptFlag } from '../tree/commit.js';
import { formatBytes, summarize } from '../tree/describe.js';
import { clearJournal, recoverJournal, writeJournal } from '../tree/journal.js';
import { LOCK_FILE, lockProject } from '../tree/lock.js';
import type { Output } from '../ui/output.js';
import { planSplit, type SplitMove } from '../workspace/split.js';
import { verifyWorkspace, type WorkspaceStep } from '../workspace/verify.js';
import type { ServiceAddOptions, ServiceAddResult } from './service-add.js';

/** What `service add` did to a single project (in --json as `split`). */
export interface SplitResult {
  /** The app's new folder. */
  app: string;
  workspace: string;
  moves: SplitMove[];
  /** The split as two git commits (the project must be clean before), or why not. */
  git: 'committed' | 'not a git repository' | 'commit failed' | 'would commit' | 'pending';
}

/**
 * `service add <name>` in a single project: the project becomes a workspace (workspace/split.ts)
 * with the app in services/<its name>/ and the new service beside it. Refused (exit 2, nothing
 * touched) while git has uncommitted changes, so that git can always take it back
 * (`git reset --hard HEAD~2`). In a git repository the CLI commits the split
 * itself (as `create` made the first commit): the move alone, then the workspace, so that git sees
 * every moved file as a rename (same bytes) and `git log --follow` keeps its history. The install
 * that follows changes only ignored files and package-lock.json.
 */
export async function splitProject(
  root: string,
  options: ServiceAddOptions,
  out: Output,
  result?: Partial<ServiceAddResult & { split: SplitResult }>,
): Promise<ServiceAddResult & { split: SplitResult }> {
  const release = await lockProject(root);
  try {
    if (await recoverJournal(root)) out.warn('An interrupted earlier run was rolled back first.');
    const plan = await planSplit(root, options.name);
    const git = await gitRepository(root);
    if (git) await refuseUncommitted(root);
    const where = relative(process.cwd(), root) || '.';
    const folder = `services/${plan.app.name}`;
    const res = Object.assign(result ?? {}, {
      workspace: root,
      service: plan.service,
      dryRun: options.dryRun,
      files: summarize(plan.added),
      conflicts: [] as string[],
      steps: [] as WorkspaceStep[],
      split: {
        app: folder,
        workspace: plan.workspace.name,
        moves: plan.moves,
        git: !git ? 'not a git repository' : options.dryRun ? 'would commit' : 'pending',
      } as SplitResult,
    });
    if (options.dryRun) {
      out.info(
        `Dry run: ${where} would become the workspace ${plan.workspace.name}: ${plan.moves.length} files move to ${folder}/ unchanged, ${plan.added.length} files are written${git ? ', and git commits it' : ''}:`,
      );
      for (const move of plan.moves) out.info(`  move   ${move.from} → ${move.to}`);
      for (const file of res.files)
        out.info(
          `  ${file.action.padEnd(6)} ${file.path} ${out.color.dim(formatBytes(file.bytes))}`,
        );
      return res;
    }

    const interrupt = interruptFlag();
    try {
      await writeJournal(root, 'service add (split)', plan.changes);
      await out.step(
        `Moving ${plan.moves.length} files to ${folder}/ and writing ${plan.added.length}`,
        async () => {
          try {
            await commitChanges(root, plan.changes, { checkpoint: interrupt.checkpoint });
          } catch (error) {
            await recoverJournal(root).catch(() => undefined);
            throw error;
          }
        },
      );
      await clearJournal(root);
      for (const [path, mode] of plan.modes) await chmod(join(root, path), mode);
      await removeEmptied(root, plan.moves);
      if (git) {
        const moved = plan.moves.map((m) => m.from);
        res.split.git = await commitSplit(
          root,
          { app: plan.app.name, service: plan.service.name, moved },
          out,
        );
      }
      try {
        await verifyWorkspace({
          directory: root,
          packageManager: plan.workspace.packageManager,
          services: [plan.app.name, plan.service.name],
          install: options.install,
          verify: options.install && options.verify,
          verbose: options.verbose,
          out,
          checkpoint: interrupt.checkpoint,
          signal: interrupt.signal,
          results: res.steps,
        });
      } catch (error) {
        if (error instanceof FailedError || error instanceof InterruptedError)
          error.details.push(`The workspace is kept in ${where}; the app is in ${folder}.`);
        throw error;
      }
    } finally {
      interrupt.dispose();
    }
    out.success(
      `Split ${where} into the workspace ${plan.workspace.name}: the app is in ${folder}, the service ${plan.service.name} beside it (port ${plan.service.port}).`,
    );
    return res;
  } finally {
    await release();
  }
}

/** The folders the move left empty, deepest first (a folder with anything else in it stays). */
async function removeEmptied(root: string, moves: readonly SplitMove[]): Promise<void> {
  const dirs = new Set<string>();
  for (const { from } of moves)
    for (let dir = dirname(from); dir !== '.'; dir = dirname(dir)) dirs.add(dir);
  const deepestFirst = [...dirs].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const dir of deepestFirst) await rmdir(join(root, dir)).catch(() => undefined);
}

async function git(root: string, args: string[], input?: string) {
  const { execa } = await import('execa');
  return execa('git', args, { cwd: root, reject: false, all: true, input: input ?? '' });
}

/** Whether `root` is inside a git work tree (git installed and asked). */
async function gitRepository(root: string): Promise<boolean> {
  if (!isOnPath('git')) return false;
  const inside = await git(root, ['rev-parse', '--is-inside-work-tree']);
  return inside.exitCode === 0 && String(inside.stdout).trim() === 'true';
}

/** Only this project's folder counts, and not the lock this run holds. */
const PROJECT = ['--', '.', `:(exclude)${LOCK_FILE}`];

/** Nothing changed in the project's folder, and nothing staged anywhere (the CLI commits). */
async function refuseUncommitted(root: string): Promise<void> {
  const status = await git(root, ['status', '--porcelain', '--untracked-files=all', ...PROJECT]);
  if (status.exitCode !== 0) {
    throw new UsageError(`git status failed in ${root}: ${String(status.all).split('\n')[0]}`);
  }
  const staged = await git(root, ['diff', '--cached', '--quiet']);
  if (String(status.stdout).trim() || staged.exitCode !== 0) {
    throw new UsageError(
      'The project has uncommitted changes (or git has staged ones): commit or stash them first, so that the split can be undone with git.',
    );
  }
}

/**
 * Two commits: the move alone (each old path deleted, the same bytes under services/<app>/: git
 * pairs them as renames without doubt), then the workspace's new files. In one commit a file
 * the workspace copies (the breaker, the tool configs) could be paired with a copy instead.
 */
async function commitSplit(
  root: string,
  plan: { app: string; service: string; moved: readonly string[] },
  out: Output,
): Promise<SplitResult['git']> {
  const steps: string[][] = [
    ['add', '-A', '--', `services/${plan.app}`],
    // Every path is a file's name, never a pattern.
    [
      '--literal-pathspecs',
      'rm',
      '-q',
      '--cached',
      '--ignore-unmatch',
      '--pathspec-from-file=-',
      '--pathspec-file-nul',
    ],
    ['commit', '-q', '-m', `Move the app to services/${plan.app} (create-scalable-express split)`],
    // The workspace's .gitignore ignores this run's lock (naming it here would be an error).
    ['add', '-A', '--', '.'],
    [
      'commit',
      '-q',
      '-m',
      `Make it a workspace and add the service ${plan.service} (create-scalable-express split)`,
    ],
  ];
  for (const args of steps) {
    const input = args.includes('rm') ? plan.moved.join('\0') : undefined;
    const run = await git(root, args, input);
    if (run.exitCode === 0) continue;
    const reason =
      String(run.all ?? '')
        .split('\n')
        .find(Boolean) ?? 'no output';
    out.warn(`The split is not committed: ${reason} (fix that, then: git add -A && git commit).`);
    return 'commit failed';
  }
  out.success('Committed the split to git: the move (as renames), then the workspace');
  return 'committed';
}
