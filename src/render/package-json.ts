import type { Feature, Packages, ProjectContext } from '../features/types.js';
import { fallbackVersions, isYarnBerry } from '../pm.js';
import { nodeEngines, versions, type PackageName } from '../versions.js';

function pinned(names: Iterable<PackageName>): Record<string, string> {
  return Object.fromEntries([...new Set(names)].sort().map((name) => [name, versions[name]]));
}

function names(packages: Packages | undefined, project: ProjectContext): readonly PackageName[] {
  return typeof packages === 'function' ? packages(project) : (packages ?? []);
}

/**
 * `packageManager`: the exact package manager and version the project was made with. Corepack
 * (the Dockerfile, CI) and pnpm/Yarn themselves run exactly that version.
 */
function packageManagerField(project: ProjectContext): string | undefined {
  const version = project.packageManagerVersion ?? fallbackVersions[project.packageManager];
  return version ? `${project.packageManager}@${version}` : undefined;
}

/** package.json: the base app's fields, then each feature's dependencies and scripts. */
export function renderPackageJson(project: ProjectContext, features: readonly Feature[]): string {
  const scripts: Record<string, string> = {};
  for (const feature of features) Object.assign(scripts, feature.scripts?.(project));
  const pkg = {
    name: project.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    packageManager: packageManagerField(project),
    engines: { node: nodeEngines },
    scripts,
    dependencies: pinned(features.flatMap((f) => names(f.dependencies, project))),
    devDependencies: pinned(features.flatMap((f) => names(f.devDependencies, project))),
    // Yarn Berry runs no dependency build scripts unless allowed: esbuild's checks its binary.
    ...(isYarnBerry(project.packageManager, project.packageManagerVersion)
      ? { dependenciesMeta: { esbuild: { built: true } } }
      : {}),
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}
