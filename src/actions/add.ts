import type { Output } from '../ui/output.js';
import { growProject, type GrowOptions, type GrowResult } from './grow.js';

/**
 * `add <feature...>`: adds features (and the features they require) to an existing project,
 * merging shared files so the user's own changes survive. See growProject.
 */
export function addFeatures(
  options: GrowOptions,
  out: Output,
  result?: Partial<GrowResult>,
): Promise<GrowResult> {
  return growProject('add', options, out, result);
}
