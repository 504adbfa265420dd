import { getFeature } from '../features/index.js';
import type { Feature, PackageManager, ProjectContext } from '../features/types.js';
import { packageManagerCommands } from '../pm.js';
import { comparePaths } from '../tree/path-order.js';
import { nodeMajor, versions } from '../versions.js';
import { renderAppRegistry } from './app-registry.js';
import { renderCompose } from './compose.js';
import { renderEnvExample } from './env-example.js';
import { renderPackageJson } from './package-json.js';
import { README_TEMPLATE, renderReadme } from './readme.js';
import { loadFeatureTemplates } from './templates.js';

/** A rendered project: relative path (always with '/') → file content. */
export type FileTree = Map<string, string>;

export interface ProjectInput {
  name: string;
  port: number;
  packageManager: PackageManager;
  packageManagerVersion?: string;
  /** Resolved, ordered feature ids (see resolveFeatures), without the base app. */
  features: readonly string[];
}

export function projectContext(input: ProjectInput): ProjectContext {
  const set = new Set(input.features);
  return { ...input, features: [...input.features], has: (id) => set.has(id) };
}

/** Names npm would mangle on publish are stored under another name and restored here. */
const RENAMES: Record<string, string> = { _gitignore: '.gitignore', _npmrc: '.npmrc' };

export function featureList(project: ProjectContext): Feature[] {
  return ['base', ...project.features].map((id) => {
    const feature = getFeature(id);
    if (!feature) throw new Error(`unknown feature ${id}`);
    return feature;
  });
}

/** Files `create` writes for the user to own (see Feature.createOnly). */
export function createOnlyPaths(input: ProjectInput): Set<string> {
  return new Set(featureList(projectContext(input)).flatMap((f) => f.createOnly ?? []));
}

/** Renders every file of the project, in memory. Writes nothing. */
export async function renderProject(input: ProjectInput): Promise<FileTree> {
  const project = projectContext(input);
  const features = featureList(project);
  const scripts = Object.assign({}, ...features.map((f) => f.scripts?.(project) ?? {})) as Record<
    string,
    string
  >;
  // The production start command as an argv: Dockerfile CMD, PM2 and verify all run exactly this.
  const startArgv = (scripts.start ?? 'node dist/main.js').trim().split(/\s+/);
  const pmCommands = packageManagerCommands(project.packageManager, project.packageManagerVersion);
  const locals = { project, has: project.has, versions, nodeMajor, startArgv, pmCommands };
  const tree: FileTree = new Map();
  const templates = await Promise.all(features.map((f) => loadFeatureTemplates(f.id)));

  for (const files of templates) {
    for (const [rel, template] of files) {
      if (rel === README_TEMPLATE) continue;
      if (typeof template === 'string') {
        tree.set(renamed(rel), template);
        continue;
      }
      const content = template(locals);
      // A template that renders to nothing means "this file is not needed for these options".
      if (content.trim() === '') continue;
      tree.set(renamed(rel.slice(0, -'.ejs'.length)), content);
    }
  }

  tree.set('package.json', renderPackageJson(project, features));
  tree.set('.env.example', renderEnvExample(project, features));
  tree.set('README.md', renderReadme(features, templates, locals));
  tree.set('src/features/index.ts', renderAppRegistry(features));
  const compose = await renderCompose(project, features);
  if (compose) tree.set('docker-compose.yml', compose);
  return new Map([...tree].sort(([a], [b]) => comparePaths(a, b)));
}

function renamed(rel: string): string {
  const parts = rel.split('/');
  const last = parts.pop()!;
  return [...parts, RENAMES[last] ?? last].join('/');
}
