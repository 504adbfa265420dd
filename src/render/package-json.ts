import type { Feature, Packages, ProjectContext } from '../features/types.js';
import { nodeEngines, versions, type PackageName } from '../versions.js';

function pinned(names: Iterable<PackageName>): Record<string, string> {
  return Object.fromEntries([...new Set(names)].sort().map((name) => [name, versions[name]]));
}

function names(packages: Packages | undefined, project: ProjectContext): readonly PackageName[] {
  return typeof packages === 'function' ? packages(project) : (packages ?? []);
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
    engines: { node: nodeEngines },
    scripts,
    dependencies: pinned(features.flatMap((f) => names(f.dependencies, project))),
    devDependencies: pinned(features.flatMap((f) => names(f.devDependencies, project))),
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}
