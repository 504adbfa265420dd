import validateName from 'validate-npm-package-name';
import { UsageError } from '../errors.js';
import type { PackageManager } from '../features/types.js';
import { checkWorkspacePackageManager } from '../workspace/package-managers.js';

/** Features that describe how the workspace is deployed: they apply at its root, not per service. */
export const deploymentFeatures = ['docker', 'nginx', 'haproxy', 'kubernetes'] as const;

/** Deployment features a workspace can have today (the others are refused, never half-made). */
export const workspaceDeployment = ['docker', 'nginx', 'haproxy', 'kubernetes'] as const;

/**
 * Deployment features `service add` carries over when it splits a single app: the app's own
 * Dockerfile, compose file and k8s/ are made for one app (its folder as the build context), so
 * docker and kubernetes are refused there until the split remakes them for the workspace.
 */
export const splitDeployment = ['nginx', 'haproxy'] as const;

/** A DNS label (compose and Kubernetes host names) that is also an npm name and a URL segment. */
const SERVICE_NAME = /^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** Checks one service name; the message says what a valid one looks like. */
export function validateServiceName(name: string, workspace: string): void {
  if (!SERVICE_NAME.test(name) || !validateName(name).validForNewPackages) {
    throw new UsageError(
      `Invalid service name "${name}": use 1 to 40 lowercase letters, digits and inner hyphens, starting with a letter (e.g. "users", "order-items").`,
    );
  }
  if (name === workspace) {
    throw new UsageError(
      `A service cannot be named "${name}" like its workspace (both would be npm package "${name}").`,
    );
  }
}

/** `--services users,payments` → ['users', 'payments'], validated and without repeats allowed. */
export function parseServiceNames(value: string, workspace: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) {
    throw new UsageError(
      `--services "${value}" names no service: list at least one, e.g. users,payments.`,
    );
  }
  const seen = new Set<string>();
  for (const name of names) {
    validateServiceName(name, workspace);
    if (seen.has(name)) throw new UsageError(`--services names "${name}" twice.`);
    seen.add(name);
  }
  return names;
}

/**
 * The features split between the services (in-app) and the workspace's root (deployment); what a
 * workspace cannot have yet is refused in one line.
 */
export function splitWorkspaceFeatures(
  features: readonly string[],
  packageManager: PackageManager,
  packageManagerVersion?: string,
): { app: string[]; deployment: string[] } {
  checkWorkspacePackageManager(packageManager, packageManagerVersion);
  const isDeployment = (id: string): boolean =>
    (deploymentFeatures as readonly string[]).includes(id);
  const refused = features.filter(
    (id) => isDeployment(id) && !(workspaceDeployment as readonly string[]).includes(id),
  );
  if (refused.length) {
    throw new UsageError(
      `--services does not support ${refused.join(', ')} in a workspace yet: leave ${refused.length > 1 ? 'them' : 'it'} out.`,
    );
  }
  return {
    app: features.filter((id) => !isDeployment(id)),
    deployment: features.filter(isDeployment),
  };
}
