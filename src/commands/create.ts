import type { Command } from 'commander';
import { isatty } from 'node:tty';
import { presetNames } from '../features/presets.js';
import { selectableFeatures } from '../features/index.js';
import type { CreateResult } from '../actions/create.js';
import type { CreateFlags } from '../options/create.js';
import { givenFlags } from './grow.js';

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
    .option(
      '--services <names>',
      'comma-separated services (e.g. users,payments): a workspace with one app per service',
    )
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
      const [options, prompts, action, { createOutput }, { runAction }] = await Promise.all([
        import('../options/create.js'),
        import('../options/prompts.js'),
        import('../actions/create.js'),
        import('../ui/output.js'),
        import('./run.js'),
      ]);
      const json = Boolean(flags.json);
      const out = createOutput({ json });
      const partial: Partial<CreateResult> = {};
      await runAction(out, json, partial, async () => {
        const resolved = await options.resolveCreateOptions(flags, {
          cwd: process.cwd(),
          env: process.env,
          // Not process.stdin.isTTY: reading it opens stdin as a stream, which loads Node's
          // file streams, fs/promises and readline when stdin is not a terminal (~3 ms).
          terminal: isatty(0) && isatty(1),
          prompts: prompts.loadPrompts,
        });
        if (flags.services !== undefined) {
          const [{ parseServiceNames }, workspace] = await Promise.all([
            import('../options/services.js'),
            import('../actions/create-workspace.js'),
          ]);
          const services = parseServiceNames(flags.services, resolved.name);
          const made = await workspace.createWorkspace(resolved, services, out, partial as object);
          if (!resolved.dryRun && !resolved.json) workspace.printWorkspaceSummary(made, out);
          return made;
        }
        const result = await action.createProject(resolved, out, partial);
        if (!resolved.dryRun && !resolved.json) action.printSummary(resolved, out);
        return result;
      });
    });
}
