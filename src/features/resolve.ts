import { UsageError } from '../errors.js';
import { allFeatures } from './index.js';
import type { Feature } from './types.js';
import { closest } from '../ui/suggest.js';

/**
 * Turns the ids a user asked for into the full, valid, ordered feature list: unknown ids are an
 * error (with a suggestion), required features are added, conflicting pairs are an error.
 */
export function resolveFeatures(
  requested: readonly string[],
  registry: readonly Feature[] = allFeatures,
): string[] {
  const byId = new Map(registry.map((f) => [f.id, f]));
  const getFeature = (id: string): Feature | undefined => byId.get(id);
  const valid = registry.filter((f) => !f.hidden).map((f) => f.id);
  const chosen = new Set<string>();
  const visit = (id: string, requiredBy?: string): void => {
    const feature = getFeature(id);
    if (!feature || feature.hidden) {
      const hint = closest(id, valid);
      const because = requiredBy ? ` (required by "${requiredBy}")` : '';
      throw new UsageError(
        `Unknown feature "${id}"${because}.${hint ? ` Did you mean "${hint}"?` : ''} Valid features: ${valid.join(', ')}.`,
      );
    }
    if (chosen.has(id)) return;
    chosen.add(id);
    for (const dep of feature.requires ?? []) visit(dep, id);
  };
  for (const id of requested) visit(id);

  for (const id of chosen) {
    for (const other of getFeature(id)?.conflicts ?? []) {
      if (chosen.has(other)) {
        throw new UsageError(`Features "${id}" and "${other}" conflict: choose one of them.`);
      }
    }
  }
  return registry.filter((f) => chosen.has(f.id)).map((f) => f.id);
}

/** Parses a comma- or space-separated list such as "redis, cluster". */
export function parseFeatureList(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}
