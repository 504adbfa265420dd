import type { Command } from 'commander';
import type { GrowResult } from '../actions/grow.js';
import type { GrowFlags } from '../options/grow.js';
import { givenFlags, growOptions } from './grow.js';

/** `create-scalable-express remove <feature...>`: remove features from an existing project. */
export function registerRemove(program: Command): void {
  growOptions(
    program
      .command('remove')
      .description(
        'remove features from a project made by create-scalable-express: their files, dependencies, scripts, env lines and compose services',
      )
      .argument('<feature...>', 'feature ids, space- or comma-separated'),
  ).action(async (ids: string[], _opts: unknown, command: Command) => {
    const flags = givenFlags(command) as GrowFlags;
    // Loaded only when the command runs, so that --help stays fast.
    const [{ resolveGrowOptions }, { removeFeatures }, { createOutput }, { runAction }] =
      await Promise.all([
        import('../options/grow.js'),
        import('../actions/remove.js'),
        import('../ui/output.js'),
        import('./run.js'),
      ]);
    const json = Boolean(flags.json);
    const out = createOutput({ json });
    const partial: Partial<GrowResult> = {};
    await runAction(out, json, partial, () =>
      removeFeatures(resolveGrowOptions(ids, flags, process.cwd()), out, partial),
    );
  });
}
