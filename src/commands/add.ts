import type { Command } from 'commander';
import { addFeatures } from '../actions/add.js';
import type { GrowResult } from '../actions/grow.js';
import { createOutput } from '../ui/output.js';
import { growOptions, resolveGrowOptions } from './grow.js';
import { runAction } from './run.js';

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
    const options = resolveGrowOptions(ids, command);
    const out = createOutput({ json: options.json });
    const partial: Partial<GrowResult> = {};
    await runAction(out, options.json, partial, () => addFeatures(options, out, partial));
  });
}
