import { resolveFeatures } from '../features/resolve.js';
import { renderProject, type FileTree } from '../render/render.js';
import type { WorkspaceInput } from './render.js';
import type { WorkspaceService } from './manifest.js';

/**
 * One service rendered as the single app it would be with the workspace's deployment features
 * too: its docker-compose.yml and k8s/ are the single-app features' own output, which the
 * workspace then places (renamed, routed) instead of keeping a second copy of their logic.
 */
export async function renderAsSingleApp(
  input: WorkspaceInput,
  service: WorkspaceService,
  deployment: readonly string[],
): Promise<FileTree> {
  return renderProject({
    name: service.name,
    port: service.port,
    packageManager: input.packageManager,
    packageManagerVersion: input.packageManagerVersion,
    features: resolveFeatures([...featuresOf(input, service), ...deployment]),
  });
}

/** The environment variable the service client reads a service's base URL from. */
export const urlVariable = (service: string): string =>
  `${service.toUpperCase().replace(/-/g, '_')}_URL`;

/** A service's in-app features: its own (read from its manifest), or the workspace's. */
export const featuresOf = (
  input: Pick<WorkspaceInput, 'features'>,
  service: WorkspaceService,
): readonly string[] => service.features ?? input.features;
