import type { Command } from 'commander';
import type { GrowResult } from '../actions/grow.js';
import { growOptions, resolveGrowOptions } from './grow.js';

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
    const options = resolveGrowOptions(ids, command);
    // Loaded only when the command runs, so that --help stays fast.
    const [{ removeFeatures }, { createOutput }, { runAction }] = await Promise.all([
      import('../actions/remove.js'),
      import('../ui/output.js'),
      import('./run.js'),
    ]);
    const out = createOutput({ json: options.json });
    const partial: Partial<GrowResult> = {};
    await runAction(out, options.json, partial, () => removeFeatures(options, out, partial));
  });
}
