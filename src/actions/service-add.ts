import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FailedError, InterruptedError, UsageError } from '../errors.js';
import { validateServiceName } from '../options/services.js';
import { commitChanges, interruptFlag } from '../tree/commit.js';
import { formatBytes, summarize, type ChangeSummary } from '../tree/describe.js';
import { readProjectFile } from '../tree/files.js';
import { clearJournal, recoverJournal, writeJournal } from '../tree/journal.js';
import { lockProject } from '../tree/lock.js';
import type { Output } from '../ui/output.js';
import { regenerated } from '../workspace/grow.js';
import { readWorkspaceInput } from '../workspace/input.js';
import {
  serializeWorkspace,
  WORKSPACE_FILE,
  type WorkspaceService,
} from '../workspace/manifest.js';
import {
  changesAgainstDisk,
  renderRoot,
  renderService,
  workspaceManifest,
  type WorkspaceInput,
} from '../workspace/render.js';
import { verifyWorkspace, type WorkspaceStep } from '../workspace/verify.js';
import { findWorkspace } from './service-list.js';
import { splitProject } from './service-split.js';
import { singleProjectAt } from '../workspace/split.js';

export interface ServiceAddOptions {
  /** A folder inside the workspace. */
  cwd: string;
  name: string;
  dryRun: boolean;
  force: boolean;
  install: boolean;
  verify: boolean;
  verbose: boolean;
}

export interface ServiceAddResult {
  workspace: string;
  service: WorkspaceService;
  dryRun: boolean;
  files: ChangeSummary[];
  /** Root files you edited that must change (rewritten only with --force, yours kept as .orig). */
  conflicts: string[];
  steps: WorkspaceStep[];
}

function inWorkspace(cwd: string): boolean {
  try {
    findWorkspace(cwd);
    return true;
  } catch {
    return false;
  }
}

/**
 * `service add <name>`: a new service beside the others (the same in-app features), the gateway
 * and README regenerated with it, the workspace manifest updated; then one install at the root
 * and the new service verified. Root files are compared with what the CLI made for the old
 * service list: one you edited is a conflict (exit 1, nothing written) unless --force.
 */
export async function addService(
  options: ServiceAddOptions,
  out: Output,
  result?: Partial<ServiceAddResult>,
): Promise<ServiceAddResult> {
  // A single project (not inside a workspace) is split into one: "split later".
  const single = inWorkspace(options.cwd) ? undefined : singleProjectAt(options.cwd);
  if (single) return splitProject(single, options, out, result);
  const root = findWorkspace(options.cwd);
  const release = await lockProject(root);
  try {
    if (await recoverJournal(root)) out.warn('An interrupted earlier run was rolled back first.');
    const { workspace, input: before } = await readWorkspaceInput(root, options.force);
    validateServiceName(options.name, workspace.name);
    if (workspace.services.some((s) => s.name === options.name)) {
      throw new UsageError(`${workspace.name} already has a service "${options.name}".`);
    }
    if (existsSync(join(root, 'services', options.name))) {
      throw new UsageError(
        `services/${options.name} already exists but is not in ${WORKSPACE_FILE}: move it away first.`,
      );
    }
    const service = {
      name: options.name,
      port: Math.max(before.port - 1, ...workspace.services.map((s) => s.port)) + 1,
    };
    const after: WorkspaceInput = { ...before, services: [...before.services, service] };

    const files = await renderService(after, service);
    const regen = await regenerated(
      root,
      await renderRoot(before),
      await renderRoot(after),
      options.force,
    );
    const conflicts = regen.conflicts.map((c) => c.path);
    const changes = [...regen.changes, ...(await changesAgainstDisk(root, files))];
    const manifestBefore = await readProjectFile(root, WORKSPACE_FILE);
    changes.push({
      path: WORKSPACE_FILE,
      action: 'update',
      content: serializeWorkspace(workspaceManifest(after)),
      ...(manifestBefore ? { previous: manifestBefore } : {}),
    });
    const res: ServiceAddResult = Object.assign(result ?? {}, {
      workspace: root,
      service,
      dryRun: options.dryRun,
      files: summarize(changes),
      conflicts,
      steps: [] as WorkspaceStep[],
    });
    const where = relative(process.cwd(), root) || '.';
    if (conflicts.length && !options.force) {
      throw new FailedError(
        `${conflicts.length === 1 ? 'A file you edited must change' : 'Files you edited must change'}: ${conflicts.join(', ')}.`,
        [
          'Nothing was written. Merge the change by hand, or re-run with --force (yours is saved as <file>.orig).',
        ],
      );
    }
    if (options.dryRun) {
      out.info(
        `Dry run: adding the service ${service.name} would write ${changes.length} files in ${where}:`,
      );
      for (const file of res.files)
        out.info(
          `  ${file.action.padEnd(6)} ${file.path} ${out.color.dim(formatBytes(file.bytes))}`,
        );
      return res;
    }

    const interrupt = interruptFlag();
    try {
      await writeJournal(root, 'service add', changes);
      await out.step(`Writing ${changes.length} files`, async () => {
        try {
          await commitChanges(root, changes, { checkpoint: interrupt.checkpoint });
        } catch (error) {
          await recoverJournal(root).catch(() => undefined);
          throw error;
        }
      });
      await clearJournal(root);
      try {
        await verifyWorkspace({
          directory: root,
          packageManager: workspace.packageManager,
          services: [service.name],
          client: false,
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
          error.details.push(`The new service is kept in services/${service.name}.`);
        throw error;
      }
    } finally {
      interrupt.dispose();
    }
    out.success(`Added the service ${service.name} (port ${service.port}).`);
    return res;
  } finally {
    await release();
  }
}
