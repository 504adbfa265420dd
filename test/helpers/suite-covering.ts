import { allFeatures } from '../../src/features/index.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import type { Feature } from '../../src/features/types.js';

/**
 * A pairwise covering set of projects for the feature matrix, computed from the registry and the
 * rules instead of listing every pair. For every two selectable features a and b, each of
 * "a with b", "a without b" and "b without a" that some allowed project can show is shown by at
 * least one project of the set (the old one-project-per-pair matrix showed all three too: every
 * pair project left the other features out). Greedy: take the allowed project that covers the
 * most combinations not yet covered, the one with more features on a tie.
 */
export type Resolve = (ids: readonly string[]) => string[];

export interface Requirement {
  a: string;
  b: string;
  /** Whether a and b are each on in the project that shows the combination. */
  aOn: boolean;
  bOn: boolean;
}

export const describeRequirement = (r: Requirement): string =>
  `${r.a} ${r.aOn ? 'with' : 'without'} ${r.b}`;

const resolveWith =
  (registry: readonly Feature[]): Resolve =>
  (ids) =>
    resolveFeatures(ids, registry);

/** Whether `resolve` accepts the ids as they are (no conflict, nothing required is missing). */
function accepts(resolve: Resolve, ids: readonly string[]): boolean {
  try {
    const resolved = resolve(ids);
    return resolved.length === ids.length && resolved.every((id, i) => id === ids[i]);
  } catch {
    return false;
  }
}

const allowedByRegistry = new WeakMap<readonly Feature[], string[][]>();

/**
 * Every feature set the rules allow, in registry order (2^n candidates: n is small). Kept per
 * registry when the registry's own rules decide (seconds for 19 features).
 */
export function allowedProjects(
  registry: readonly Feature[] = allFeatures,
  resolve?: Resolve,
): string[][] {
  if (resolve) return enumerateAllowed(registry, resolve);
  let projects = allowedByRegistry.get(registry);
  if (!projects) {
    projects = enumerateAllowed(registry, resolveWith(registry));
    allowedByRegistry.set(registry, projects);
  }
  return projects;
}

function enumerateAllowed(registry: readonly Feature[], resolve: Resolve): string[][] {
  const ids = registry.filter((f) => !f.hidden).map((f) => f.id);
  if (ids.length > 20) throw new Error('too many features to enumerate: use a sampler');
  const projects: string[][] = [];
  for (let mask = 0; mask < 2 ** ids.length; mask++) {
    const project = ids.filter((_, i) => mask & (2 ** i));
    if (accepts(resolve, project)) projects.push(project);
  }
  return projects;
}

/** The pairs of selectable features, split by whether `resolve` accepts them together. */
export function pairsByRule(
  registry: readonly Feature[] = allFeatures,
  resolve: Resolve = resolveWith(registry),
): { allowed: [string, string][]; rejected: [string, string][] } {
  const ids = registry.filter((f) => !f.hidden).map((f) => f.id);
  const allowed: [string, string][] = [];
  const rejected: [string, string][] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const pair: [string, string] = [ids[i]!, ids[j]!];
      let ok = true;
      try {
        resolve(pair);
      } catch {
        ok = false;
      }
      (ok ? allowed : rejected).push(pair);
    }
  }
  return { allowed, rejected };
}

/** The feature and everything it requires, transitively, read from the registry's data. */
function closure(registry: readonly Feature[], id: string): Set<string> {
  const byId = new Map(registry.map((f) => [f.id, f]));
  const seen = new Set<string>();
  const visit = (x: string): void => {
    if (seen.has(x)) return;
    seen.add(x);
    for (const dep of byId.get(x)?.requires ?? []) visit(dep);
  };
  visit(id);
  return seen;
}

/** The declared conflict that forbids a and b together (directly or through requires), if any. */
export function declaredConflict(
  registry: readonly Feature[],
  a: string,
  b: string,
): [string, string] | undefined {
  const together = new Set([...closure(registry, a), ...closure(registry, b)]);
  for (const feature of registry) {
    if (!together.has(feature.id)) continue;
    const other = feature.conflicts?.find((c) => together.has(c));
    if (other) return [feature.id, other];
  }
  return undefined;
}

/** Every combination a covering set must show: those that at least one allowed project shows. */
export function requirements(ids: readonly string[], projects: readonly string[][]): Requirement[] {
  const sets = projects.map((p) => new Set(p));
  const wanted: Requirement[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = ids[i]!;
      const b = ids[j]!;
      for (const [aOn, bOn] of [
        [true, true],
        [true, false],
        [false, true],
      ] as const) {
        const r = { a, b, aOn, bOn };
        if (sets.some((s) => shows(s, r))) wanted.push(r);
      }
    }
  }
  return wanted;
}

export const shows = (project: ReadonlySet<string>, r: Requirement): boolean =>
  project.has(r.a) === r.aOn && project.has(r.b) === r.bOn;

/** The greedy covering set: a few allowed projects that together show every requirement. */
export function coveringSet(
  registry: readonly Feature[] = allFeatures,
  resolve?: Resolve,
): string[][] {
  const ids = registry.filter((f) => !f.hidden).map((f) => f.id);
  const candidates = allowedProjects(registry, resolve);
  let open = requirements(ids, candidates);
  const chosen: string[][] = [];
  while (open.length > 0) {
    let best: string[] = [];
    let bestGain = -1;
    for (const project of candidates) {
      const set = new Set(project);
      const gain = open.filter((r) => shows(set, r)).length;
      if (gain > bestGain || (gain === bestGain && project.length > best.length)) {
        best = project;
        bestGain = gain;
      }
    }
    const set = new Set(best);
    open = open.filter((r) => !shows(set, r));
    chosen.push(best);
  }
  return chosen;
}

/** The features of `project` that require `id`, directly or through another. */
export function dependentsIn(
  project: readonly string[],
  id: string,
  registry: readonly Feature[] = allFeatures,
): string[] {
  const byId = new Map(registry.map((f) => [f.id, f]));
  const requires = (f: string, seen = new Set<string>()): boolean =>
    (byId.get(f)?.requires ?? []).some(
      (r) => r === id || (!seen.has(r) && requires(r, seen.add(r))),
    );
  return project.filter((f) => f !== id && requires(f));
}
