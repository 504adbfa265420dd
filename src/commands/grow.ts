import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { GrowOptions } from '../actions/grow.js';
import { parseFeatureList } from '../features/resolve.js';
import { givenFlags } from './create.js';

export interface GrowFlags {
  cwd?: string;
  dryRun?: boolean;
  force?: boolean;
  install?: boolean;
  verify?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/** The options `add` and `remove` share. */
export function growOptions(command: Command): Command {
  return command
    .option('--cwd <dir>', 'the project folder (default: the current folder)')
    .option('--dry-run', 'print a unified diff of every change; write nothing')
    .option('--force', 'overwrite files you edited that must change; yours is saved as <file>.orig')
    .option('--no-install', 'do not install dependencies (implies --no-verify)')
    .option('--no-verify', 'skip the test-build (build, lint, test, boot)')
    .option('--json', 'print one JSON result document on stdout (human output goes to stderr)')
    .option('--verbose', 'stream the output of install, build, lint and test');
}

/** argv → typed options: features may be given as `a b` or `a,b`. */
export function resolveGrowOptions(ids: readonly string[], command: Command): GrowOptions {
  const flags = givenFlags(command) as GrowFlags;
  return {
    features: ids.flatMap(parseFeatureList),
    directory: resolve(process.cwd(), flags.cwd ?? '.'),
    dryRun: Boolean(flags.dryRun),
    force: Boolean(flags.force),
    install: flags.install !== false,
    verify: flags.verify !== false,
    json: Boolean(flags.json),
    verbose: Boolean(flags.verbose),
  };
}
