import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { GrowOptions } from '../actions/grow.js';
import { UsageError } from '../errors.js';
import { parseFeatureList } from '../features/resolve.js';
import { MANIFEST_FILE } from '../manifest.js';

/** `add`/`remove`/`list` flags as given on the command line. */
export interface GrowFlags {
  cwd?: string;
  dryRun?: boolean;
  force?: boolean;
  install?: boolean;
  verify?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/**
 * The project folder named by --cwd (or the current folder), checked before any action runs:
 * it must be a folder, and a package.json in it must be valid JSON (the merge would fail later,
 * half-way, with a raw parser error and no file name).
 */
export function projectDirectory(
  cwdFlag: string | undefined,
  cwd: string,
  checkPackageJson = true,
): string {
  const directory = resolve(cwd, cwdFlag ?? '.');
  const shown = cwdFlag ?? '.';
  let isDirectory: boolean;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch {
    throw new UsageError(`--cwd ${shown}: no such folder (or a symbolic link to a missing one).`);
  }
  if (!isDirectory) throw new UsageError(`--cwd ${shown} is a file, not a project folder.`);
  if (!checkPackageJson) return directory;
  const pkg = join(directory, 'package.json');
  let text: string | undefined;
  try {
    text = readFileSync(pkg, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    try {
      JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      throw new UsageError(
        `${pkg} is not valid JSON (${(error as Error).message}): fix it, then run again.`,
      );
    }
  }
  return directory;
}

/** argv → validated options for `add`/`remove`: features may be given as `a b` or `a,b`. */
export function resolveGrowOptions(
  ids: readonly string[],
  flags: GrowFlags,
  cwd: string,
): GrowOptions {
  const features = ids.flatMap(parseFeatureList);
  if (features.length === 0) throw new UsageError('Name at least one feature (see `list`).');
  return {
    features,
    directory: projectDirectory(flags.cwd, cwd),
    dryRun: Boolean(flags.dryRun),
    force: Boolean(flags.force),
    install: flags.install !== false,
    verify: flags.verify !== false,
    json: Boolean(flags.json),
    verbose: Boolean(flags.verbose),
  };
}

/** `list` options: an explicit --cwd must be a project; the current folder may be anything. */
export function resolveListOptions(
  flags: { cwd?: string; json?: boolean },
  cwd: string,
): { directory: string; explicit: boolean; json: boolean } {
  const explicit = flags.cwd !== undefined;
  const inProject = explicit || existsSync(resolve(cwd, MANIFEST_FILE));
  return {
    directory: projectDirectory(flags.cwd, cwd, inProject),
    explicit,
    json: Boolean(flags.json),
  };
}
