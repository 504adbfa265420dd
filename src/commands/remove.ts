import type { Command } from 'commander';
import type { GrowResult } from '../actions/grow.js';
import { removeFeatures } from '../actions/remove.js';
import { createOutput } from '../ui/output.js';
import { growOptions, resolveGrowOptions } from './grow.js';
import { runAction } from './run.js';

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
    const out = createOutput({ json: options.json });
    const partial: Partial<GrowResult> = {};
    await runAction(out, options.json, partial, () => removeFeatures(options, out, partial));
  });
}
