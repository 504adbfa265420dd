import { readFileSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The slowest files first, from the seconds each took in the last full run (test/durations.json,
 * refreshed with `node scripts/durations.mjs < ci.log`). A clean clone has no vitest cache, and
 * without one vitest starts the largest files first: grow-full-remove, short but 15 minutes of
 * work, then started last and ran alone at the end. Files the list does not know (new ones) go
 * first, as vitest does with unknown files; the rest keep vitest's order among equals.
 */
export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = JSON.parse(
      readFileSync(new URL('../durations.json', import.meta.url), 'utf8'),
    ) as Record<string, number>;
    const known = (spec: TestSpecification): number => {
      const path = spec.moduleId.slice(spec.project.config.root.length + 1);
      return seconds[path] ?? Number.POSITIVE_INFINITY;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((spec, index) => ({ spec, index, weight: known(spec) }))
      .sort((a, b) => b.weight - a.weight || a.index - b.index)
      .map(({ spec }) => spec);
  }
}
