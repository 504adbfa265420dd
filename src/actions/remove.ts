import type { Output } from '../ui/output.js';
import { growProject, type GrowOptions, type GrowResult } from './grow.js';

/**
 * `remove <feature...>`: the reverse of add; refuses to remove a feature another installed
 * feature requires. See growProject.
 */
export function removeFeatures(
  options: GrowOptions,
  out: Output,
  result?: Partial<GrowResult>,
): Promise<GrowResult> {
  return growProject('remove', options, out, result);
}
