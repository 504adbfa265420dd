/**
 * The feature-set rules, in one place: parsing what a user typed, unknown ids (with a
 * suggestion), requirements, conflicts, combining a preset with explicit picks, and what a
 * project holds after `add` or `remove`. Ids are case-insensitive (`REDIS` is `redis`), like
 * preset names.
 */
import { UsageError } from '../errors.js';
import { closest } from '../ui/suggest.js';
import { allFeatures } from './index.js';
import type { Feature } from './types.js';

/** Parses a comma- or space-separated list such as "Redis, cluster"; ids are lower-cased. */
export function parseFeatureList(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function lookup(registry: readonly Feature[]): (id: string) => Feature | undefined {
  const byId = new Map(registry.map((f) => [f.id, f]));
  return (id) => byId.get(id);
}

/** True when `a` and `b` cannot be installed together (declared on either side). */
export function conflicts(a: Feature, b: Feature): boolean {
  return Boolean(a.conflicts?.includes(b.id) || b.conflicts?.includes(a.id));
}

export function unknownFeature(
  id: string,
  registry: readonly Feature[] = allFeatures,
  requiredBy?: string,
): UsageError {
  const valid = registry.filter((f) => !f.hidden).map((f) => f.id);
  const hint = closest(id, valid);
  const because = requiredBy ? ` (required by "${requiredBy}")` : '';
  return new UsageError(
    `Unknown feature "${id}"${because}.${hint ? ` Did you mean "${hint}"?` : ''} Valid features: ${valid.join(', ')}.`,
  );
}

/** The ids plus every feature they require, transitively; unknown ids are an error. */
function withRequirements(requested: readonly string[], registry: readonly Feature[]): Set<string> {
  const get = lookup(registry);
  const chosen = new Set<string>();
  const visit = (id: string, requiredBy?: string): void => {
    const feature = get(id);
    if (!feature || feature.hidden) throw unknownFeature(id, registry, requiredBy);
    if (chosen.has(id)) return;
    chosen.add(id);
    for (const dep of feature.requires ?? []) visit(dep, id);
  };
  for (const id of requested) visit(id.toLowerCase());
  return chosen;
}

function inRegistryOrder(ids: Iterable<string>, registry: readonly Feature[]): string[] {
  const set = new Set(ids);
  return registry.filter((f) => set.has(f.id)).map((f) => f.id);
}

/**
 * Turns the ids a user asked for into the full, valid, ordered feature list: unknown ids are an
 * error (with a suggestion), required features are added, conflicting pairs are an error.
 */
export function resolveFeatures(
  requested: readonly string[],
  registry: readonly Feature[] = allFeatures,
): string[] {
  const get = lookup(registry);
  const chosen = [...withRequirements(requested, registry)];
  for (const [i, id] of chosen.entries()) {
    for (const other of chosen.slice(i + 1)) {
      if (conflicts(get(id)!, get(other)!)) {
        throw new UsageError(`Features "${id}" and "${other}" conflict: choose one of them.`);
      }
    }
  }
  return inRegistryOrder(chosen, registry);
}

/**
 * A preset combined with explicit picks. The explicit picks win: a preset feature that
 * conflicts with one of them (or with what they require) is left out, so `--preset full
 * --features pino` is `full` with pino instead of winston. Conflicts among the explicit picks
 * themselves are still an error.
 */
export function combineWithPreset(
  preset: readonly string[],
  explicit: readonly string[],
  registry: readonly Feature[] = allFeatures,
): string[] {
  const get = lookup(registry);
  const picked = resolveFeatures(explicit, registry);
  const kept = preset.filter((id) => {
    const needed = [...withRequirements([id], registry)];
    return needed.every((n) => picked.every((p) => !conflicts(get(n)!, get(p)!)));
  });
  return resolveFeatures([...picked, ...kept], registry);
}

/** Every selectable feature that conflicts with no feature listed before it. */
export function firstOfEachConflict(registry: readonly Feature[] = allFeatures): string[] {
  const chosen: Feature[] = [];
  for (const feature of registry.filter((f) => !f.hidden)) {
    if (!chosen.some((c) => conflicts(c, feature))) chosen.push(feature);
  }
  return chosen.map((f) => f.id);
}

const quote = (ids: readonly string[]): string => ids.map((id) => `"${id}"`).join(', ');

function requireKnown(ids: readonly string[]): void {
  if (ids.length === 0) throw new UsageError('Name at least one feature (see `list`).');
  for (const id of ids) withRequirements([id], allFeatures);
}

/** The features a project must have after `add`. Throws UsageError on conflicts. */
export function featuresAfterAdd(
  installed: readonly string[],
  requested: readonly string[],
): string[] {
  requireKnown(requested);
  const get = lookup(allFeatures);
  const wanted = resolveFeatures(requested);
  for (const id of wanted) {
    const against = installed.filter((other) => conflicts(get(id)!, get(other)!));
    if (against.length) {
      throw new UsageError(
        `Cannot add "${id}": it conflicts with the installed ${quote(against)}. Remove ${against.length > 1 ? 'them' : 'it'} first (create-scalable-express remove ${against.join(' ')}).`,
      );
    }
  }
  return resolveFeatures([...installed, ...wanted]);
}

/** The features a project keeps after `remove`. Throws UsageError when one is still required. */
export function featuresAfterRemove(
  installed: readonly string[],
  requested: readonly string[],
): string[] {
  requireKnown(requested);
  const get = lookup(allFeatures);
  const removing = new Set(requested.filter((id) => installed.includes(id)));
  const remaining = installed.filter((id) => !removing.has(id));
  for (const holder of remaining) {
    const dep = (get(holder)?.requires ?? []).find((d) => removing.has(d));
    if (dep) {
      throw new UsageError(
        `Cannot remove "${dep}": the installed "${holder}" requires it. Remove "${holder}" too, or keep "${dep}".`,
      );
    }
  }
  return inRegistryOrder(remaining, allFeatures);
}
