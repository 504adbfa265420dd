import { UsageError } from '../errors.js';
import type { PackageManager } from '../features/types.js';
import { MANIFEST_FILE, serializeManifest, type Manifest } from '../manifest.js';
import { isYarnBerry, packageManagerCommands } from '../pm.js';
import type { FileChange } from '../tree/plan.js';
import type { WorkspaceInput } from './render.js';
import { featuresOf, renderAsSingleApp } from './service-project.js';

/**
 * What differs between npm, pnpm and Yarn Berry workspaces: where the workspace's packages are
 * listed, how a service names the shared client, the root scripts that run every package, the CI
 * steps and the Dockerfile's commands. Yarn 1 has neither `workspace:*` nor `workspaces foreach`
 * and is refused.
 */

/** Refuses, in one line, a package manager a workspace cannot be made with. */
export function checkWorkspacePackageManager(
  pm: PackageManager,
  version: string | undefined,
): void {
  if (pm === 'yarn' && !isYarnBerry(pm, version)) {
    throw new UsageError(
      `A workspace needs Yarn 2 or later (Yarn ${version ?? '1'} has no workspace: protocol): run \`corepack use yarn@stable\`, or use --pm npm or pnpm.`,
    );
  }
}

/** Files of a service's own project that a pnpm or Yarn workspace keeps once, at its root. */
export function rootOnly(pm: PackageManager): readonly string[] {
  // A pnpm-workspace.yaml inside services/<name>/ would make that folder a workspace of its own.
  if (pm === 'pnpm') return ['pnpm-workspace.yaml'];
  if (pm === 'yarn') return ['.yarnrc.yml'];
  return [];
}

/** How a service depends on the shared client: "*" lets npm link it whatever its version. */
export const clientRange = (pm: PackageManager): string => (pm === 'npm' ? '*' : 'workspace:*');

/** The folders holding the workspace's packages, shared packages first. */
export const packageFolders = ['packages/*', 'services/*'] as const;

/**
 * The root's package-manager pieces, from the single app with every service's features (so the
 * build approvals are the ones they need): pnpm-workspace.yaml or .yarnrc.yml, and the root
 * package.json's fields after `engines`. Nothing for npm (render.ts keeps its own fields).
 */
export async function packageManagerRoot(
  input: WorkspaceInput,
): Promise<{ files: Map<string, string>; fields: object | undefined; gitignore: string }> {
  const pm = input.packageManager;
  const files = new Map<string, string>();
  const first = input.services[0];
  if (pm === 'npm' || !first) return { files, fields: undefined, gitignore: '' };
  // Every service's features (they may differ once one grows): the approvals cover them all.
  const features = [...new Set(input.services.flatMap((s) => featuresOf(input, s)))];
  const single = await renderAsSingleApp(input, { ...first, features }, []);
  // Yarn's install state is made at the root: the single app's lines that ignore it.
  const ignored = String(single.get('.gitignore'));
  const yarnBlock = ignored.slice(Math.max(ignored.indexOf('# Yarn Berry'), 0));
  if (pm === 'yarn' && !yarnBlock.startsWith('# Yarn Berry'))
    throw new Error(
      "the single app's .gitignore has no Yarn Berry block: update package-managers.ts",
    );
  for (const path of rootOnly(pm)) {
    const content = single.get(path);
    if (typeof content === 'string') files.set(path, rootSettings(path, content));
  }
  const service = JSON.parse(String(single.get('package.json'))) as Record<string, unknown>;
  const scripts = Object.fromEntries(
    ['build', 'typecheck', 'lint', 'test'].map((name) => [
      name,
      pm === 'pnpm'
        ? // -r: every package, in dependency order (the client before the services).
          `pnpm -r run ${name}`
        : // -A: every workspace, -t: in dependency order; the root skips its own script.
          `yarn workspaces foreach -At run ${name}`,
    ]),
  );
  const fields = {
    // pnpm reads its packages from pnpm-workspace.yaml only.
    ...(pm === 'yarn' ? { workspaces: [...packageFolders] } : {}),
    scripts,
    // Yarn reads dependenciesMeta (esbuild's build approval) at the root only.
    ...(pm === 'yarn' && service.dependenciesMeta
      ? { dependenciesMeta: service.dependenciesMeta }
      : {}),
  };
  return { files, fields, gitignore: pm === 'yarn' ? yarnBlock : '' };
}

/**
 * A service's root-only settings file made the root's: pnpm-workspace.yaml gets the package
 * folders in front of the build approvals the single app has; .yarnrc.yml is kept as it is.
 */
function rootSettings(path: string, content: string): string {
  if (path !== 'pnpm-workspace.yaml') return content;
  const packages = packageFolders.map((folder) => `  - '${folder}'\n`).join('');
  return `# The workspace's packages: the shared ones first.\npackages:\n${packages}${content}`;
}

/** The generated README's and the summary's command running a script of one service. */
export function runInService(pm: PackageManager, service: string, script: string): string {
  if (pm === 'pnpm') return `pnpm --filter ${service} run ${script}`;
  if (pm === 'yarn') return `yarn workspace ${service} run ${script}`;
  return `npm run ${script} -w services/${service}`;
}

/**
 * The commands of a pnpm or Yarn workspace's CI workflow and of `service`'s Dockerfile (the
 * shared package `client` is the service's one workspace dependency).
 */
export function workspaceCommands(
  pm: PackageManager,
  version: string | undefined,
  service: string,
  client: string,
) {
  const commands = packageManagerCommands(pm, version);
  const pnpm = pm === 'pnpm';
  return {
    manifests: ['package.json', commands.lockfile, ...commands.configFiles],
    frozenInstall: commands.frozenInstall,
    // pnpm: `users...` selects the service and the workspace packages it depends on, from the
    // root lockfile (the other services' folders are not in the image). Yarn: `focus` installs
    // what the named workspaces need, without writing the lockfile the absent services are in.
    serviceInstall: pnpm
      ? `pnpm install --frozen-lockfile --filter ${service}...`
      : `yarn workspaces focus ${service} ${client}`,
    // The client first (the service imports its dist/), then the service.
    serviceBuild: pnpm
      ? `pnpm --filter ${service}... run build`
      : `yarn workspaces foreach -Rt --from ${service} run build`,
    serviceProductionInstall: pnpm
      ? `pnpm install --frozen-lockfile --prod --filter ${service}...`
      : `yarn workspaces focus --production ${service}`,
  };
}

/**
 * A service's own changes (an `add` in it) without the files its workspace keeps at the root only,
 * in its manifest too: the root's copy is re-rendered with the workspace's deployment.
 */
export function withoutRootOnly(changes: readonly FileChange[], pm: PackageManager): FileChange[] {
  const rootFiles = rootOnly(pm);
  if (rootFiles.length === 0) return [...changes];
  return changes
    .filter((change) => !rootFiles.includes(change.path))
    .map((change) => {
      if (change.path !== MANIFEST_FILE || typeof change.content !== 'string') return change;
      const manifest = JSON.parse(change.content) as Manifest;
      for (const path of rootFiles) delete manifest.files[path];
      return { ...change, content: serializeManifest(manifest) };
    });
}
