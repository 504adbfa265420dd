import type { Command } from 'commander';
import { presetNames } from '../features/presets.js';
import { selectableFeatures } from '../features/index.js';
import type { CreateFlags } from '../options/create.js';

/** Only flags the user actually gave count (commander fills defaults for --no-* flags). */
export function givenFlags(command: Command): Record<string, unknown> {
  const opts = command.opts();
  return Object.fromEntries(
    Object.entries(opts).filter(([key]) => command.getOptionValueSource(key) === 'cli'),
  );
}

/** `create-scalable-express [directory] [options]`: the root command generates a project. */
export function registerCreate(program: Command): void {
  program
    .argument('[directory]', 'folder to create; its name becomes the npm package name')
    .option('-y, --yes', 'use defaults for everything not given; never prompt')
    .option(
      '-f, --features <ids>',
      `comma-separated features: ${selectableFeatures.map((f) => f.id).join(', ')}`,
    )
    .option('-p, --preset <name>', `a feature set: ${presetNames.join(' | ')}`)
    .option(
      '--pm <name>',
      'package manager: npm | pnpm | yarn (default: the one that launched this, else npm)',
    )
    .option('--port <number>', 'port the app listens on by default (3000)')
    .option('--no-install', 'do not install dependencies (implies --no-verify)')
    .option('--no-verify', 'skip the test-build (build, lint, test, boot)')
    .option('--no-git', 'do not initialize a git repository')
    .option('--dry-run', 'list the files that would be written, with sizes; write nothing')
    .option(
      '--force',
      'write into a non-empty directory: keep other files, save replaced ones as <file>.orig',
    )
    .option(
      '--config <file>',
      'a JSON answers file with the same keys as these options (flags win)',
    )
    .option('--json', 'print one JSON result document on stdout (human output goes to stderr)')
    .option('--verbose', 'stream the output of install, build, lint and test')
    .action(async (directory: string | undefined, _opts: unknown, command: Command) => {
      const flags = { ...givenFlags(command), ...(directory ? { directory } : {}) } as CreateFlags;
      // Loaded only when it runs, so that --help stays as fast as node itself.
      const { runCreate } = await import('../actions/create.js');
      await runCreate(flags);
    });
}
