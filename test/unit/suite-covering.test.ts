import { describe, expect, it } from 'vitest';
import { allFeatures, selectableFeatures } from '../../src/features/index.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import type { Feature } from '../../src/features/types.js';
import {
  allowedProjects,
  coveringSet,
  declaredConflict,
  describeRequirement,
  pairsByRule,
  requirements,
  shows,
  type Resolve,
} from '../helpers/suite-covering.js';

/**
 * The feature matrix (test/e2e/matrix.test.ts) builds the covering set instead of every pair:
 * this proves, without installing anything, that the set is what the matrix claims.
 */
const ids = selectableFeatures.map((f) => f.id);
const covering = coveringSet();
const { allowed, rejected } = pairsByRule();

/** What a pair check reports: each rejected pair and the declared conflict that explains it. */
function unexplainedRejections(registry: readonly Feature[], resolve: Resolve): string[] {
  return pairsByRule(registry, resolve)
    .rejected.filter(([a, b]) => !declaredConflict(registry, a, b))
    .map(([a, b]) => `${a} + ${b}`);
}

describe('the pairwise covering set of the feature matrix', () => {
  it('holds only projects the rules allow, each as resolve returns it', () => {
    for (const project of covering) expect(resolveFeatures(project)).toEqual(project);
  });

  it('puts every allowed pair of features together in at least one project', () => {
    const sets = covering.map((p) => new Set(p));
    const missing = allowed.filter(([a, b]) => !sets.some((s) => s.has(a) && s.has(b)));
    expect(missing).toEqual([]);
  });

  it('also shows each feature without each other one, wherever the rules allow it', () => {
    const sets = covering.map((p) => new Set(p));
    const wanted = requirements(ids, allowedProjects());
    const missing = wanted.filter((r) => !sets.some((s) => shows(s, r)));
    expect(missing.map(describeRequirement)).toEqual([]);
    // "a without b" is wanted unless b is required by a: with no `requires`, every one is.
    const withoutCount = wanted.filter((r) => r.aOn !== r.bOn).length;
    const requiresCount = allFeatures.reduce((n, f) => n + (f.requires?.length ?? 0), 0);
    if (requiresCount === 0) expect(withoutCount).toBe(2 * (allowed.length + rejected.length));
  });

  it('needs far fewer projects than there are pairs, with many features each', () => {
    console.log(
      `covering set: ${covering.length} projects for ${allowed.length} allowed pairs\n` +
        covering.map((p) => `  ${p.join(',')}`).join('\n'),
    );
    expect(covering.length).toBeLessThanOrEqual(Math.ceil(allowed.length / 5));
    const mean = covering.reduce((n, p) => n + p.length, 0) / covering.length;
    expect(mean).toBeGreaterThanOrEqual(ids.length / 3);
  });

  it('every pair resolve rejects is a declared conflict, and every declared conflict is rejected', () => {
    console.log(
      `${rejected.length} pairs rejected: ${rejected.map(([a, b]) => `${a} + ${b}`).join(', ')}`,
    );
    expect(unexplainedRejections(allFeatures, resolveFeatures)).toEqual([]);
    const declared = allFeatures.flatMap((f) => (f.conflicts ?? []).map((c) => [f.id, c].sort()));
    const key = (pair: string[]): string => [...pair].sort().join(' + ');
    expect(new Set(rejected.map(key))).toEqual(new Set(declared.map(key)));
  });

  it('the rejection check fails when resolve rejects a pair nothing declares', () => {
    // A resolve that wrongly refuses redis with cluster (no conflict declared between them).
    const wrong: Resolve = (list) => {
      if (list.includes('redis') && list.includes('cluster')) throw new Error('refused');
      return resolveFeatures(list);
    };
    expect(unexplainedRejections(allFeatures, wrong)).toEqual(['cluster + redis']);
  });

  it('a conflict reached through `requires` explains a rejection', () => {
    const f = (id: string, more: Partial<Feature> = {}): Feature => ({
      id,
      title: id,
      description: id,
      ...more,
    });
    const registry = [f('a', { conflicts: ['c'] }), f('b', { requires: ['a'] }), f('c')];
    expect(pairsByRule(registry).rejected).toEqual([
      ['a', 'c'],
      ['b', 'c'],
    ]);
    expect(unexplainedRejections(registry, (l) => resolveFeatures(l, registry))).toEqual([]);
    // And the set never pairs b with c, yet shows b (with its a) and c each.
    const set = coveringSet(registry);
    for (const project of set) expect(resolveFeatures(project, registry)).toEqual(project);
    expect(set.some((p) => p.includes('b') && p.includes('c'))).toBe(false);
    expect(set.some((p) => p.includes('b'))).toBe(true);
    expect(set.some((p) => p.includes('c'))).toBe(true);
  });
});
