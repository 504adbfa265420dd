import type { Command } from 'commander';
import type { ListResult } from '../actions/list.js';
import { givenFlags } from './grow.js';

/** `create-scalable-express list`: every feature; inside a project, which are installed. */
export function registerList(program: Command): void {
  program
    .command('list')
    .description(
      'list every feature with its description, requirements and conflicts; inside a project, whether it is installed',
    )
    .option('--cwd <dir>', 'a project folder (default: the current folder, if it is one)')
    .option('--json', 'print one JSON result document on stdout')
    .action(async (_opts: unknown, command: Command) => {
      const flags = givenFlags(command) as { cwd?: string; json?: boolean };
      const json = Boolean(flags.json);
      // Loaded only when the command runs, so that --help stays fast.
      const [{ resolveListOptions }, { listFeatures }, { createOutput }, { runAction }] =
        await Promise.all([
          import('../options/grow.js'),
          import('../actions/list.js'),
          import('../ui/output.js'),
          import('./run.js'),
        ]);
      const out = createOutput({ json });
      const partial: Partial<ListResult> = {};
      await runAction(out, json, partial, () =>
        listFeatures(resolveListOptions(flags, process.cwd()), out),
      );
    });
}
