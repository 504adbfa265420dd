import type { PackageName } from '../versions.js';

export type PackageManager = 'npm' | 'pnpm' | 'yarn';

/** What every template and feature hook sees about the project being generated. */
export interface ProjectContext {
  /** npm package name of the project (also its folder name). */
  name: string;
  port: number;
  packageManager: PackageManager;
  /** Its exact version, recorded in package.json's `packageManager`; absent when unknown. */
  packageManagerVersion?: string;
  /** Installed feature ids, in registry order. */
  features: readonly string[];
  has(featureId: string): boolean;
}

export type Packages =
  readonly PackageName[] | ((project: ProjectContext) => readonly PackageName[]);

/** One documented environment variable, written to .env.example. */
export interface EnvVar {
  name: string;
  example: string;
  comment: string;
  /**
   * Written commented out (`# NAME=example`): the app runs without it, and the example is the
   * value for another setting (docker-compose's service, a container).
   */
  commented?: boolean;
}

/** A feature: data plus a few hooks. Its templates live in `templates/` beside its module. */
export interface Feature {
  id: string;
  title: string;
  /** One line, shown in prompts, `list` and `--help`. */
  description: string;
  requires?: readonly string[];
  conflicts?: readonly string[];
  /** Package names (versions come from versions.ts); a function when they depend on other features. */
  dependencies?: Packages;
  devDependencies?: Packages;
  /** package.json scripts this feature adds or replaces. */
  scripts?: (project: ProjectContext) => Record<string, string>;
  env?: (project: ProjectContext) => readonly EnvVar[];
  /**
   * True when the feature ships `src/features/<id>.ts` in the generated app. Its place in the
   * app's feature registry is `appModuleOrder` in features/index.ts.
   */
  appModule?: boolean;
  /**
   * Output paths that are the user's from the start (example routes): `create` writes them,
   * `add`/`remove` never write, change or delete them, and the manifest does not record them.
   */
  createOnly?: readonly string[];
  /**
   * Variables the CLI's verify step sets when it boots the built app in production mode, so
   * that it starts without outside services (postgres: its embedded database).
   */
  verifyEnv?: (project: ProjectContext) => Record<string, string>;
  /** Services this feature adds to docker-compose.yml (used when the docker feature is on). */
  composeServices?: (project: ProjectContext) => Record<string, unknown>;
  /** Hidden features (the base app) are always on and never listed. */
  hidden?: boolean;
}
