import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { FailedError, InterruptedError, UsageError } from '../errors.js';
import { commitChanges, interruptFlag } from '../tree/commit.js';
import { formatBytes, summarize, type ChangeSummary } from '../tree/describe.js';
import { readProjectFile } from '../tree/files.js';
import { clearJournal, recoverJournal, writeJournal } from '../tree/journal.js';
import { lockProject } from '../tree/lock.js';
import type { FileChange } from '../tree/plan.js';
import type { Output } from '../ui/output.js';
import { regenerated } from '../workspace/grow.js';
import { readWorkspaceInput } from '../workspace/input.js';
import {
  serializeWorkspace,
  WORKSPACE_FILE,
  type WorkspaceService,
} from '../workspace/manifest.js';
import { renderRoot, workspaceManifest, type WorkspaceInput } from '../workspace/render.js';
import { verifyWorkspace, type WorkspaceStep } from '../workspace/verify.js';
import { findWorkspace } from './service-list.js';

export interface ServiceRemoveOptions {
  cwd: string;
  name: string;
  dryRun: boolean;
  force: boolean;
  install: boolean;
  verbose: boolean;
}

export interface ServiceRemoveResult {
  workspace: string;
  service: WorkspaceService;
  dryRun: boolean;
  files: ChangeSummary[];
  conflicts: string[];
  steps: WorkspaceStep[];
}

/** Folders of a service that hold no source: build output and installed packages. */
const REBUILT = new Set(['node_modules', 'dist', 'coverage']);

/** Every file of the service's folder, relative to the workspace, except REBUILT folders. */
async function sourceFiles(root: string, folder: string): Promise<string[]> {
  const entries = await readdir(join(root, folder), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/'))
    .filter((path) => !path.split('/').some((part) => REBUILT.has(part)))
    .sort();
}

/**
 * `service remove <name>`: deletes services/<name> (its code too, so only with --force; --dry-run
 * lists what would go), takes it out of the gateway, the root README and the workspace manifest
 * (a root file you edited is a conflict unless --force, yours kept as .orig), then installs at
 * the root so that the lockfile forgets it. Under the lock and the journal: a hard kill is rolled
 * back by the next run.
 */
export async function removeService(
  options: ServiceRemoveOptions,
  out: Output,
  result?: Partial<ServiceRemoveResult>,
): Promise<ServiceRemoveResult> {
  const root = findWorkspace(options.cwd);
  const release = await lockProject(root);
  try {
    if (await recoverJournal(root)) out.warn('An interrupted earlier run was rolled back first.');
    const { workspace, input: before } = await readWorkspaceInput(root, options.force);
    const service = before.services.find((s) => s.name === options.name);
    if (!service) {
      const names = workspace.services.map((s) => s.name).join(', ');
      throw new UsageError(`${workspace.name} has no service "${options.name}" (it has ${names}).`);
    }
    if (workspace.services.length === 1) {
      throw new UsageError(
        `"${options.name}" is the workspace's only service: it cannot be removed.`,
      );
    }
    const after: WorkspaceInput = {
      ...before,
      services: before.services.filter((s) => s !== service),
    };

    const folder = `services/${service.name}`;
    const changes: FileChange[] = [];
    for (const path of await sourceFiles(root, folder)) {
      const previous = await readProjectFile(root, path);
      if (previous) changes.push({ path, action: 'delete', previous });
    }
    const regen = await regenerated(
      root,
      await renderRoot(before),
      await renderRoot(after),
      options.force,
    );
    const conflicts = regen.conflicts.map((c) => c.path);
    changes.push(...regen.changes);
    const manifestBefore = await readProjectFile(root, WORKSPACE_FILE);
    changes.push({
      path: WORKSPACE_FILE,
      action: 'update',
      content: serializeWorkspace(workspaceManifest(after)),
      ...(manifestBefore ? { previous: manifestBefore } : {}),
    });
    const res: ServiceRemoveResult = Object.assign(result ?? {}, {
      workspace: root,
      service,
      dryRun: options.dryRun,
      files: summarize(changes),
      conflicts,
      steps: [] as WorkspaceStep[],
    });

    if (options.dryRun) {
      out.info(
        `Dry run: removing the service ${service.name} would change ${changes.length} files:`,
      );
      for (const file of res.files)
        out.info(
          `  ${file.action.padEnd(6)} ${file.path} ${out.color.dim(formatBytes(file.bytes))}`,
        );
      return res;
    }
    if (!options.force) {
      const edited = conflicts.length
        ? ` and rewrite ${conflicts.join(', ')}, which you edited`
        : '';
      throw new UsageError(
        `Removing the service ${service.name} deletes ${folder} with its code${edited}: see the list with --dry-run, then re-run with --force (commit first: git keeps it).`,
      );
    }

    const interrupt = interruptFlag();
    try {
      await writeJournal(root, 'service remove', changes);
      await out.step(`Removing ${folder}`, async () => {
        try {
          await commitChanges(root, changes, { checkpoint: interrupt.checkpoint });
        } catch (error) {
          await recoverJournal(root).catch(() => undefined);
          throw error;
        }
      });
      await clearJournal(root);
      // What is left is rebuilt or installed output only (and folders now empty).
      await rm(join(root, folder), { recursive: true, force: true });
      try {
        await verifyWorkspace({
          directory: root,
          packageManager: workspace.packageManager,
          services: [],
          client: false,
          install: options.install,
          verify: false,
          verbose: options.verbose,
          out,
          checkpoint: interrupt.checkpoint,
          signal: interrupt.signal,
          results: res.steps,
        });
      } catch (error) {
        if (error instanceof FailedError || error instanceof InterruptedError)
          error.details.push(`${folder} is removed; run the install again at the root.`);
        throw error;
      }
    } finally {
      interrupt.dispose();
    }
    const mentions = await mentionsOf(root, after.services, service.name);
    if (mentions.length) {
      out.warn(
        `${mentions.join(', ')} still mention ${service.name}: change ${mentions.length > 1 ? 'them' : 'it'} by hand.`,
      );
    }
    out.success(`Removed the service ${service.name}.`);
    return res;
  } finally {
    await release();
  }
}

/** Services whose .env.example names `<NAME>_URL` of the removed one (they call it). */
async function mentionsOf(
  root: string,
  services: readonly WorkspaceService[],
  removed: string,
): Promise<string[]> {
  const variable = `${removed.toUpperCase().replace(/-/g, '_')}_URL`;
  const found: string[] = [];
  for (const s of services) {
    const env = await readFile(join(root, 'services', s.name, '.env.example'), 'utf8').catch(
      () => '',
    );
    if (env.includes(variable)) found.push(`services/${s.name}`);
  }
  return found;
}
