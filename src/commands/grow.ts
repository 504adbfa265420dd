import type { Command } from 'commander';

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

/** Only flags the user actually gave count (commander fills defaults for --no-* flags). */
export function givenFlags(command: Command): Record<string, unknown> {
  const opts = command.opts();
  return Object.fromEntries(
    Object.entries(opts).filter(([key]) => command.getOptionValueSource(key) === 'cli'),
  );
}
