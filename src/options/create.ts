import { lstatSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import validateName from 'validate-npm-package-name';
import { UsageError } from '../errors.js';
import { parsePreset, presetFeatures } from '../features/presets.js';
import { combineWithPreset, parseFeatureList, resolveFeatures } from '../features/resolve.js';
import type { PackageManager } from '../features/types.js';
import { MANIFEST_FILE } from '../manifest.js';
import { detectPackageManager, packageManagers } from '../pm.js';
import type { Prompts } from './prompts.js';

/** Options as given on the command line or in an answers file: anything may be missing. */
export interface CreateFlags {
  directory?: string;
  yes?: boolean;
  features?: string | string[];
  preset?: string;
  pm?: string;
  install?: boolean;
  verify?: boolean;
  git?: boolean;
  port?: string | number;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
  config?: string;
  verbose?: boolean;
  /** `--services a,b`: a workspace (options/services.ts validates the names). */
  services?: string;
}

/** Fully resolved, validated options: what the create action runs with. */
export interface CreateOptions {
  directory: string;
  name: string;
  features: string[];
  packageManager: PackageManager;
  port: number;
  install: boolean;
  verify: boolean;
  git: boolean;
  dryRun: boolean;
  force: boolean;
  json: boolean;
  verbose: boolean;
}

export interface ResolveEnvironment {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdin and stdout are terminals. */
  terminal: boolean;
  /** Loaded only in interactive mode. */
  prompts: () => Promise<Prompts>;
}

/** Keys an answers file (--config) may hold: the options' own names. */
const ANSWER_KEYS = [
  'directory',
  'features',
  'preset',
  'pm',
  'install',
  'verify',
  'git',
  'port',
  'force',
  'verbose',
] as const;

async function readAnswers(file: string, cwd: string): Promise<CreateFlags> {
  const path = resolve(cwd, file);
  let data: unknown;
  try {
    // Editors on Windows save UTF-8 with a byte order mark; JSON.parse refuses it.
    data = JSON.parse((await readFile(path, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'file not found'
        : (error as Error).message;
    throw new UsageError(`Cannot read the answers file ${file}: ${reason}.`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`The answers file ${file} must hold a JSON object.`);
  }
  for (const [key, value] of Object.entries(data)) {
    if (!(ANSWER_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(
        `Unknown key "${key}" in ${file}. Allowed keys: ${ANSWER_KEYS.join(', ')}.`,
      );
    }
    const expected = ['install', 'verify', 'git', 'force', 'verbose'].includes(key)
      ? 'boolean'
      : key === 'port'
        ? 'number'
        : key === 'features'
          ? 'array'
          : 'string';
    const actual = Array.isArray(value) ? 'array' : typeof value;
    if (
      actual !== expected &&
      !(key === 'port' && actual === 'string') &&
      !(key === 'features' && actual === 'string')
    ) {
      throw new UsageError(`"${key}" in ${file} must be a ${expected}, got ${actual}.`);
    }
    if (Array.isArray(value) && value.some((v) => typeof v !== 'string')) {
      const bad: unknown = value.find((v) => typeof v !== 'string');
      throw new UsageError(
        `"${key}" in ${file} must list feature ids as strings, got ${JSON.stringify(bad)}.`,
      );
    }
  }
  return data as CreateFlags;
}

export function validateProjectName(name: string): void {
  const result = validateName(name);
  if (result.validForNewPackages) return;
  const reason = [...(result.errors ?? []), ...(result.warnings ?? [])][0] ?? 'invalid';
  const suggestion = name
    // Accents are dropped, not the letters: "café-ñ" → "cafe-n".
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  const hint =
    suggestion && validateName(suggestion).validForNewPackages ? ` Try "${suggestion}".` : '';
  throw new UsageError(
    `"${name}" cannot be used as the project's npm package name: ${reason}.${hint}`,
  );
}

/** Decimal digits only: Number() would also take "0x50", "8e3" and "80.0". */
export function parsePort(value: string | number): number {
  const port = typeof value === 'number' ? value : /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port must be a whole number from 1 to 65535, got "${value}".`);
  }
  return port;
}

function parsePackageManager(value: string): PackageManager {
  if (!(packageManagers as readonly string[]).includes(value)) {
    throw new UsageError(
      `Unknown package manager "${value}". Valid: ${packageManagers.join(', ')}.`,
    );
  }
  return value as PackageManager;
}

export type DirectoryState =
  'missing' | 'empty' | 'non-empty' | 'project' | 'file' | 'dangling-link' | 'under-a-file';

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function directoryState(dir: string): DirectoryState {
  if (!exists(dir)) {
    // mkdir would fail with ENOTDIR when a parent is a file.
    let parent = dirname(dir);
    while (!exists(parent) && dirname(parent) !== parent) parent = dirname(parent);
    return exists(parent) && !statSync(parent).isDirectory() ? 'under-a-file' : 'missing';
  }
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    return 'dangling-link';
  }
  if (!stat.isDirectory()) return 'file';
  const entries = readdirSync(dir);
  if (entries.includes(MANIFEST_FILE)) return 'project';
  return entries.filter((e) => e !== '.git').length === 0 ? 'empty' : 'non-empty';
}

/**
 * Turns flags, an answers file and (when interactive) prompts into validated options.
 * Non-interactive (no terminal, CI set, --yes or --json): never prompts; anything missing or
 * invalid is a UsageError.
 */
export async function resolveCreateOptions(
  cli: CreateFlags,
  environment: ResolveEnvironment,
): Promise<CreateOptions> {
  const { cwd, env } = environment;
  const answers = cli.config ? await readAnswers(cli.config, cwd) : {};
  const given: CreateFlags = { ...answers, ...cli };
  const interactive = environment.terminal && !env.CI && !given.yes && !given.json;
  const prompts = interactive ? await environment.prompts() : undefined;

  // Validate everything given before asking anything.
  const port = given.port === undefined ? 3000 : parsePort(given.port);
  const preset = given.preset === undefined ? undefined : parsePreset(given.preset);
  const listed =
    given.features === undefined
      ? undefined
      : Array.isArray(given.features)
        ? given.features.flatMap(parseFeatureList)
        : parseFeatureList(given.features);
  if (listed?.length === 0 && !Array.isArray(given.features)) {
    throw new UsageError(
      `--features "${String(given.features)}" names no feature: list at least one (see \`list\`), or leave the option out.`,
    );
  }
  let features =
    listed === undefined && preset === undefined
      ? undefined
      : combineWithPreset(preset ? presetFeatures(preset) : [], listed ?? []);
  const pmGiven = given.pm === undefined ? undefined : parsePackageManager(given.pm);

  let directoryArg = given.directory?.trim();
  if (!directoryArg) {
    if (!prompts) {
      throw new UsageError(
        'Missing the project directory: create-scalable-express <directory> [options] (see --help).',
      );
    }
    directoryArg = await prompts.directory();
  }
  const directory = resolve(cwd, directoryArg);
  const name = basename(directory);
  validateProjectName(name);

  const force = Boolean(given.force);
  const state = directoryState(directory);
  if (state === 'file') throw new UsageError(`${directoryArg} exists and is not a directory.`);
  if (state === 'under-a-file') {
    throw new UsageError(`${directoryArg} cannot be created: a folder above it is a file.`);
  }
  if (state === 'dangling-link') {
    throw new UsageError(
      `${directoryArg} is a symbolic link to a folder that does not exist: create that folder or choose another directory.`,
    );
  }
  if (state === 'project' && !force) {
    throw new UsageError(
      `${directoryArg} already holds a create-scalable-express project. If an earlier run was interrupted, finish it with "cd ${directoryArg} && ${given.pm ?? 'npm'} install"; to start over, remove the folder or re-run with --force (a file you changed is kept as <file>.orig). To grow it: create-scalable-express add <feature> --cwd ${directoryArg}.`,
    );
  }
  let forceWrite = force;
  if (state === 'non-empty' && !force) {
    if (!prompts || !(await prompts.confirmNonEmpty(directoryArg))) {
      throw new UsageError(
        `${directoryArg} is not empty: choose a new directory, or pass --force to write into it (other files are kept; a file the generator also writes is saved as <file>.orig).`,
      );
    }
    forceWrite = true;
  }

  features ??= prompts ? resolveFeatures(await prompts.features()) : [];
  const packageManager =
    pmGiven ??
    (prompts ? await prompts.packageManager(detectPackageManager(env)) : detectPackageManager(env));
  const install = given.install ?? (prompts ? await prompts.install() : true);
  const git = given.git ?? (prompts ? await prompts.git() : true);

  return {
    directory,
    name,
    features,
    packageManager,
    port,
    install,
    verify: install && given.verify !== false,
    git,
    dryRun: Boolean(given.dryRun),
    force: forceWrite,
    json: Boolean(given.json),
    verbose: Boolean(given.verbose),
  };
}
