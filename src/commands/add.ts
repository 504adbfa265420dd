import type { Command } from 'commander';
import type { GrowResult } from '../actions/grow.js';
import type { GrowFlags } from '../options/grow.js';
import { givenFlags, growOptions } from './grow.js';

/** `create-scalable-express add <feature...>`: add features to an existing project. */
export function registerAdd(program: Command): void {
  growOptions(
    program
      .command('add')
      .description(
        'add features (and those they require) to a project made by create-scalable-express; your edits to shared files are kept',
      )
      .argument('<feature...>', 'feature ids, space- or comma-separated (see `list`)'),
  ).action(async (ids: string[], _opts: unknown, command: Command) => {
    const flags = givenFlags(command) as GrowFlags;
    // Loaded only when the command runs, so that --help stays fast.
    const [{ resolveGrowOptions }, { addFeatures }, { createOutput }, { runAction }] =
      await Promise.all([
        import('../options/grow.js'),
        import('../actions/add.js'),
        import('../ui/output.js'),
        import('./run.js'),
      ]);
    const json = Boolean(flags.json);
    const out = createOutput({ json });
    const partial: Partial<GrowResult> = {};
    await runAction(out, json, partial, () =>
      addFeatures(resolveGrowOptions(ids, flags, process.cwd()), out, partial),
    );
  });
}
