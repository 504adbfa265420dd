import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { PackageManager } from '../features/types.js';
import { decodeUtf8, readProjectFile } from '../tree/files.js';

/** A workspace's own record, at its root (each service keeps its .scalable-express.json). */
export const WORKSPACE_FILE = '.scalable-express-workspace.json';

export interface WorkspaceService {
  name: string;
  /** Its default PORT (and the port the gateway routes to). */
  port: number;
  /**
   * Its in-app features, read from its own manifest (`add` in one service changes only it); not
   * stored here. Absent: the workspace's `features` (a service being created).
   */
  features?: readonly string[];
}

export interface WorkspaceManifest {
  generator: 'create-scalable-express';
  kind: 'workspace';
  version: string;
  name: string;
  packageManager: PackageManager;
  /** In-app features every service was created with. */
  features: string[];
  /** Features applied at the root: the gateway (nginx or haproxy), docker, kubernetes. */
  deployment: string[];
  services: WorkspaceService[];
}

export function serializeWorkspace(manifest: WorkspaceManifest): string {
  // A service's features live in its own manifest only: one record, never two that disagree.
  const services = manifest.services.map(({ name, port }) => ({ name, port }));
  return `${JSON.stringify({ ...manifest, services }, null, 2)}\n`;
}

/** Reads the workspace manifest in `dir`; a UsageError (exit 2) naming the file when it is wrong. */
export async function readWorkspace(dir: string): Promise<WorkspaceManifest> {
  const bytes = await readProjectFile(dir, WORKSPACE_FILE);
  if (bytes === undefined) {
    throw new UsageError(
      `No ${WORKSPACE_FILE} in ${dir}: this is not a workspace made by create-scalable-express --services (use --cwd to point at one).`,
    );
  }
  let data: Partial<WorkspaceManifest> | undefined;
  try {
    data = JSON.parse(decodeUtf8(bytes) ?? '') as Partial<WorkspaceManifest>;
  } catch {
    data = undefined;
  }
  const services = data?.services;
  if (
    data?.kind !== 'workspace' ||
    !Array.isArray(services) ||
    !services.every((s) => typeof s?.name === 'string' && Number.isInteger(s.port))
  ) {
    throw new UsageError(`${join(dir, WORKSPACE_FILE)} is not a valid workspace manifest.`);
  }
  return data as WorkspaceManifest;
}

export interface ServiceOfWorkspace {
  /** The workspace's root (absolute). */
  root: string;
  service: string;
}

/** The workspace and service when `directory` is services/<name> of a workspace. */
export function serviceOfWorkspace(directory: string): ServiceOfWorkspace | undefined {
  const folder = resolve(directory);
  const services = dirname(folder);
  const root = dirname(services);
  if (basename(services) !== 'services' || !existsSync(resolve(root, WORKSPACE_FILE)))
    return undefined;
  return { root, service: basename(folder) };
}
