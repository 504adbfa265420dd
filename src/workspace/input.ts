import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, readManifest } from '../manifest.js';
import { readWorkspace, type WorkspaceManifest } from './manifest.js';
import type { WorkspaceInput } from './render.js';

/** The package manager version the workspace records in its package.json, if any. */
async function recordedVersion(root: string): Promise<string | undefined> {
  const text = await readFile(join(root, 'package.json'), 'utf8').catch(() => '{}');
  const field = (JSON.parse(text) as { packageManager?: unknown }).packageManager;
  return typeof field === 'string' ? field.split('@')[1] : undefined;
}

/**
 * The workspace at `root` as the renderer wants it: its manifest, and each service with the
 * in-app features its own manifest records (`add`/`remove` in a service change only it), so
 * that what is rendered is what the CLI last wrote.
 */
export async function readWorkspaceInput(
  root: string,
  force: boolean,
): Promise<{ workspace: WorkspaceManifest; input: WorkspaceInput }> {
  const workspace = await readWorkspace(root);
  const services = [];
  for (const service of workspace.services) {
    const folder = join(root, 'services', service.name);
    // A service folder gone by hand: rendered with the workspace's features, as created.
    const features = existsSync(join(folder, MANIFEST_FILE))
      ? (await readManifest(folder)).features
      : undefined;
    services.push({ name: service.name, port: service.port, ...(features ? { features } : {}) });
  }
  const input: WorkspaceInput = {
    directory: root,
    name: workspace.name,
    port: workspace.services[0]?.port ?? 3000,
    packageManager: workspace.packageManager,
    packageManagerVersion: await recordedVersion(root),
    services,
    features: workspace.features,
    deployment: workspace.deployment,
    force,
  };
  return { workspace, input };
}
