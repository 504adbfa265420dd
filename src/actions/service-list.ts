import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { readManifest } from '../manifest.js';
import type { Output } from '../ui/output.js';
import { readWorkspace, WORKSPACE_FILE } from '../workspace/manifest.js';

export interface ServiceListResult {
  workspace: string;
  services: {
    name: string;
    path: string;
    port: number;
    /** Its in-app features as its own manifest says (`add` in one service changes only it). */
    features: string[];
    /** Where the gateway routes it, when the workspace has one. */
    route?: string;
  }[];
}

/** The workspace holding `start` (it or a folder above it), or a one-line UsageError. */
export function findWorkspace(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, WORKSPACE_FILE))) return dir;
    if (dirname(dir) === dir) {
      throw new UsageError(
        `${start} is not inside a workspace made by create-scalable-express --services (no ${WORKSPACE_FILE} in it or above it).`,
      );
    }
  }
}

/** `service list`: the workspace's services, their ports, features and gateway routes. */
export async function listServices(cwd: string, out: Output): Promise<ServiceListResult> {
  const root = findWorkspace(cwd);
  const workspace = await readWorkspace(root);
  const gateway = workspace.deployment.some((id) => id === 'nginx' || id === 'haproxy');
  const services = [];
  for (const service of workspace.services) {
    const path = join('services', service.name);
    const manifest = await readManifest(join(root, path));
    services.push({
      name: service.name,
      path,
      port: service.port,
      features: manifest.features,
      ...(gateway ? { route: `/${service.name}/` } : {}),
    });
  }
  out.info(`Services of ${workspace.name} (${relative(cwd, root) || '.'}):`);
  for (const s of services) {
    const features = s.features.length ? s.features.join(', ') : 'no in-app features';
    const route = s.route ? ` ${out.color.dim(`gateway ${s.route}`)}` : '';
    out.info(`  ${s.name.padEnd(16)} port ${s.port}  ${features}${route}`);
  }
  return { workspace: root, services };
}
