import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { PackageManager } from '../features/types.js';
import { hashContent, MANIFEST_FILE, serializeManifest, type Manifest } from '../manifest.js';
import { packageRoot, templatesDir } from '../paths.js';
import { fallbackVersions, packageManagerCommands } from '../pm.js';
import { readProjectFile } from '../tree/files.js';
import { planChanges, type FileChange } from '../tree/plan.js';
import { cliVersion } from '../version.js';
import { nodeEngines, versions } from '../versions.js';
import {
  dockerignore,
  serviceComposeFiles,
  serviceDockerfile,
  workspaceCompose,
} from './docker.js';
import { workspaceMonitoring } from './monitoring.js';
import { featuresOf } from './service-project.js';
import { serviceManifests, workspaceManifests } from './kubernetes.js';
import { clientRange, packageManagerRoot, rootOnly, runInService } from './package-managers.js';
import {
  serializeWorkspace,
  WORKSPACE_FILE,
  type WorkspaceManifest,
  type WorkspaceService,
} from './manifest.js';

/**
 * A workspace of services, planned in memory: each service is the create engine's own project
 * (planChanges, its manifest and tests) placed under services/<name>/, plus the shared
 * packages/service-client, the root files and the deployment features at the root. Nothing is
 * written here; the action commits the changes once.
 */

export interface WorkspaceInput {
  /** The workspace folder (absolute): read only to plan around files already there (--force). */
  directory: string;
  name: string;
  /** The default port (a service's example URL falls back to it). */
  port: number;
  packageManager: PackageManager;
  packageManagerVersion?: string;
  services: readonly WorkspaceService[];
  /** In-app features every service gets. */
  features: readonly string[];
  /** Root features: the gateway (nginx or haproxy), docker, kubernetes. */
  deployment: readonly string[];
  force: boolean;
}

export interface WorkspacePlan {
  changes: FileChange[];
  manifest: WorkspaceManifest;
}

export const workspaceTemplates = (): string =>
  join(packageRoot(), 'src', 'workspace', 'templates');

/** The shared package's npm name: scoped by the workspace, so it never clashes with a service. */
export const clientPackage = (workspace: string): string => `@${workspace}/service-client`;

/** Files of a service's own project that make no sense inside a workspace (CI runs at the root). */
const dropped = (path: string): boolean => path.startsWith('.github/');

/** Services with their ports: the first on `port`, the next ones counting up. */
export function withPorts(names: readonly string[], port: number): WorkspaceService[] {
  return names.map((name, i) => ({ name, port: port + i }));
}

export async function planWorkspace(input: WorkspaceInput): Promise<WorkspacePlan> {
  const files = new Map<string, string | Buffer>();
  for (const service of input.services) {
    for (const [path, content] of await renderService(input, service)) files.set(path, content);
  }
  for (const [path, content] of await clientFiles(input))
    files.set(`packages/service-client/${path}`, content);
  for (const [path, content] of await renderRoot(input)) files.set(path, content);
  const manifest = workspaceManifest(input);
  const changes = await changesAgainstDisk(input.directory, files);
  // Last, as the engine writes its manifest last: a workspace without it was never finished.
  changes.push({ path: WORKSPACE_FILE, action: 'create', content: serializeWorkspace(manifest) });
  return { changes, manifest };
}

export function workspaceManifest(input: WorkspaceInput): WorkspaceManifest {
  return {
    generator: 'create-scalable-express',
    kind: 'workspace',
    version: cliVersion,
    name: input.name,
    packageManager: input.packageManager,
    features: [...input.features],
    deployment: [...input.deployment],
    services: input.services.map(({ name, port }) => ({ name, port })),
  };
}

/** Creates and updates that turn the disk into `files`; a file already right is left alone. */
export async function changesAgainstDisk(
  directory: string,
  files: ReadonlyMap<string, string | Buffer>,
): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  for (const [path, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const current = await readProjectFile(directory, path);
    if (current?.equals(Buffer.from(content))) continue;
    changes.push(
      current === undefined
        ? { path, action: 'create', content }
        : { path, action: 'update', content, previous: current },
    );
  }
  return changes;
}

async function templateLocals(input: WorkspaceInput) {
  const { default: ejs } = await import('ejs');
  const locals = {
    name: input.name,
    services: input.services,
    deployment: input.deployment,
    features: input.features,
    packageManager: input.packageManager,
    clientPackage: clientPackage(input.name),
    usersPort: input.services.find((s) => s.name === 'users')?.port ?? input.port,
    runInService: (service: string, script: string) =>
      runInService(input.packageManager, service, script),
    frozenInstall: packageManagerCommands(input.packageManager, input.packageManagerVersion)
      .frozenInstall,
  };
  return { locals, render: ejs.render };
}

/** The root's own files: package.json, .gitignore, README.md and the gateway. */
export async function renderRoot(input: WorkspaceInput): Promise<Map<string, string>> {
  const { locals, render } = await templateLocals(input);
  const root = workspaceTemplates();
  const files = new Map<string, string>();
  const pmRoot = await packageManagerRoot(input);
  files.set('package.json', rootPackageJson(input, pmRoot.fields));
  for (const [path, content] of pmRoot.files) files.set(path, content);
  files.set('.gitignore', (await readFile(join(root, '_gitignore'), 'utf8')) + pmRoot.gitignore);
  files.set('README.md', await renderFile(join(root, 'README.md.ejs'), locals, render));
  // The workspace's CI (a service's own workflow under services/ would never run).
  files.set(
    '.github/workflows/ci.yml',
    await renderFile(join(root, 'github', 'ci.yml.ejs'), locals, render),
  );
  for (const gateway of ['nginx', 'haproxy'] as const) {
    if (!input.deployment.includes(gateway)) continue;
    const file = gateway === 'nginx' ? 'nginx.conf' : 'haproxy.cfg';
    files.set(
      `gateway/${file}`,
      await renderFile(join(root, 'gateway', `${file}.ejs`), locals, render),
    );
  }
  // Docker and Kubernetes: the root's part (each service's part is in renderService).
  if (input.deployment.includes('docker')) {
    files.set('.dockerignore', await dockerignore());
    files.set('docker-compose.yml', await workspaceCompose(input));
    for (const [path, content] of await workspaceMonitoring(input)) files.set(path, content);
  }
  if (input.deployment.includes('kubernetes')) {
    for (const [path, content] of workspaceManifests(input)) files.set(path, content);
  }
  return files;
}

/** One service's files, under services/<name>/. */
export async function renderService(
  input: WorkspaceInput,
  service: WorkspaceService,
): Promise<Map<string, string | Buffer>> {
  const { locals, render } = await templateLocals(input);
  const own = await serviceFiles(input, service, locals, render);
  for (const [path, content] of await serviceDeployment(input, service)) own.set(path, content);
  return new Map([...own].map(([path, content]) => [`services/${service.name}/${path}`, content]));
}

/**
 * A service's part of the deployment, relative to its folder: its image and manifests, beside its
 * code (`service remove` takes them away with the folder). Made from its in-app features, so
 * `add`/`remove` in the service re-renders them (workspace/grow.ts).
 */
export async function serviceDeployment(
  input: WorkspaceInput,
  service: WorkspaceService,
): Promise<Map<string, string>> {
  const own = new Map<string, string>();
  if (input.deployment.includes('docker')) {
    own.set('Dockerfile', await serviceDockerfile(input, service));
    for (const [path, content] of await serviceComposeFiles(input, service)) own.set(path, content);
  }
  if (input.deployment.includes('kubernetes')) {
    for (const [path, content] of await serviceManifests(input, service)) own.set(path, content);
  }
  return own;
}

type Render = (source: string, locals: Record<string, unknown>) => string;

async function renderFile(file: string, locals: Record<string, unknown>, render: Render) {
  return render(await readFile(file, 'utf8'), locals);
}

/**
 * One service: the create engine's project for it, then its example routes (users, payments) as
 * files of its own, mounted in src/routes/index.ts, and the shared client as a dependency. The
 * files the engine tracks and this changes get their new hash in the service's manifest, so a
 * later `add` in the service sees them as generated, not as the user's edits.
 */
async function serviceFiles(
  input: WorkspaceInput,
  service: WorkspaceService,
  locals: Record<string, unknown>,
  render: Render,
): Promise<Map<string, string | Buffer>> {
  const plan = await planChanges({
    target: {
      name: service.name,
      port: service.port,
      packageManager: input.packageManager,
      packageManagerVersion: input.packageManagerVersion,
      features: [...featuresOf(input, service)],
    },
    readCurrent: (path) => readProjectFile(input.directory, `services/${service.name}/${path}`),
    force: input.force,
  });
  // pnpm's and Yarn's settings are the workspace's, at its root (renderRoot).
  const drop = (path: string): boolean =>
    dropped(path) || rootOnly(input.packageManager).includes(path);
  const files = new Map<string, string | Buffer>();
  for (const change of plan.changes) {
    if (change.action !== 'delete' && change.content !== undefined && !drop(change.path))
      files.set(change.path, change.content);
  }
  const manifest: Manifest = plan.manifest;
  for (const path of Object.keys(manifest.files)) if (drop(path)) delete manifest.files[path];

  const text = (path: string): string => {
    const content = files.get(path);
    if (typeof content !== 'string') throw new Error(`the service has no ${path} to extend`);
    return content;
  };
  const pkg = JSON.parse(text('package.json')) as { dependencies: Record<string, string> };
  // "*": npm links the workspace's own package whatever its version (pnpm, Yarn: workspace:*).
  const range = clientRange(input.packageManager);
  pkg.dependencies = Object.fromEntries(
    Object.entries({ ...pkg.dependencies, [clientPackage(input.name)]: range }).sort(([a], [b]) =>
      a.localeCompare(b),
    ),
  );
  files.set('package.json', `${JSON.stringify(pkg, null, 2)}\n`);

  const example = exampleRoutes[service.name];
  if (example) {
    const folder = join(workspaceTemplates(), service.name);
    for (const file of await listFiles(folder)) {
      const rel = relative(folder, file).split(sep).join('/');
      const content = await renderFile(file, locals, rel.endsWith('.ejs') ? render : (s) => s);
      files.set(rel.replace(/\.ejs$/, ''), content);
    }
    files.set('src/routes/index.ts', mountRoutes(text('src/routes/index.ts'), example));
    if (example.env) files.set('.env.example', `${text('.env.example')}\n${example.env}`);
  }
  for (const path of ['package.json', 'src/routes/index.ts', '.env.example']) {
    if (manifest.files[path]) manifest.files[path] = hashContent(text(path));
  }
  files.set(MANIFEST_FILE, serializeManifest(manifest));
  return files;
}

interface ExampleRoutes {
  /** The route module's file name under src/routes/ (without .ts) and its factory. */
  module: string;
  factory: string;
  /** Lines added to the service's .env.example. */
  env?: string;
}

const exampleRoutes: Record<string, ExampleRoutes> = {
  users: { module: 'users', factory: 'userRoutes' },
  payments: {
    module: 'payments',
    factory: 'paymentRoutes',
    env: '# The users service: its compose or Kubernetes service, or the gateway with its /users prefix.\nUSERS_URL=http://127.0.0.1:3000\n',
  },
};

const EXAMPLES_LINE = '  router.use(examples(ctx));\n';
const EXAMPLES_IMPORT = "import { examples } from './examples.js';\n";

/** src/routes/index.ts with the service's example routes mounted after the generic examples. */
export function mountRoutes(index: string, example: ExampleRoutes): string {
  if (!index.includes(EXAMPLES_LINE) || !index.includes(EXAMPLES_IMPORT)) {
    throw new Error(
      'src/routes/index.ts no longer mounts the examples: update workspace/render.ts',
    );
  }
  return index
    .replace(
      EXAMPLES_IMPORT,
      `${EXAMPLES_IMPORT}import { ${example.factory} } from './${example.module}.js';\n`,
    )
    .replace(
      EXAMPLES_LINE,
      `${EXAMPLES_LINE}\n  // This service's example API (src/routes/${example.module}.ts), yours like the rest.\n  router.use(${example.factory}(ctx));\n`,
    );
}

/** packages/service-client: its code and test, the breaker of the base app, the same tooling. */
export async function clientFiles(input: WorkspaceInput): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const folder = join(workspaceTemplates(), 'service-client');
  for (const file of await listFiles(folder)) {
    files.set(relative(folder, file).split(sep).join('/'), await readFile(file, 'utf8'));
  }
  const base = templatesDir('base');
  // One design for both: the services' src/breaker.ts is copied, not imported across packages.
  for (const [from, to] of [
    ['src/breaker.ts', 'src/breaker.ts'],
    ['tsconfig.json', 'tsconfig.json'],
    ['tsconfig.build.json', 'tsconfig.build.json'],
    ['eslint.config.js', 'eslint.config.js'],
    ['.prettierrc.json', '.prettierrc.json'],
    ['.prettierignore', '.prettierignore'],
  ] as const) {
    files.set(to, await readFile(join(base, from), 'utf8'));
  }
  files.set(
    'vitest.config.ts',
    "import { defineConfig } from 'vitest/config';\n\nexport default defineConfig({ test: { include: ['test/**/*.test.ts'] } });\n",
  );
  files.set('package.json', clientPackageJson(input));
  return files;
}

function clientPackageJson(input: WorkspaceInput): string {
  const dev = [
    '@eslint/js',
    '@types/node',
    'eslint',
    'globals',
    'prettier',
    'typescript',
    'typescript-eslint',
    'vitest',
  ] as const;
  const pkg = {
    name: clientPackage(input.name),
    version: '0.1.0',
    private: true,
    type: 'module',
    description: 'HTTP client for calls between the services of this workspace.',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    files: ['dist'],
    engines: { node: nodeEngines },
    scripts: {
      build: 'tsc -p tsconfig.build.json --declaration',
      test: 'vitest run',
      typecheck: 'tsc --noEmit',
      lint: 'eslint . && prettier --check .',
      format: 'prettier --write .',
    },
    devDependencies: Object.fromEntries(dev.map((name) => [name, versions[name]])),
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function rootPackageJson(input: WorkspaceInput, pmFields: object | undefined): string {
  const version = input.packageManagerVersion ?? fallbackVersions[input.packageManager];
  const pkg = {
    name: input.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    ...(version ? { packageManager: `${input.packageManager}@${version}` } : {}),
    engines: { node: nodeEngines },
    // pnpm and Yarn: their own workspaces settings and scripts (package-managers.ts).
    ...(pmFields ?? {
      // The shared packages first: npm runs a script in the workspaces in this order, and the
      // services import the client's build.
      workspaces: ['packages/*', 'services/*'],
      scripts: {
        build: 'npm run build --workspaces',
        typecheck: 'npm run typecheck --workspaces',
        lint: 'npm run lint --workspaces',
        test: 'npm run test --workspaces',
      },
    }),
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
