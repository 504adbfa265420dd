/**
 * comparePaths (src/tree/path-order.ts) orders paths as localeCompare does, without ICU: on every
 * path the features' templates hold, and on random paths over the characters it handles itself
 * (case, prefixes and punctuation are where collation differs from plain code-unit order).
 */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparePaths } from '../../src/tree/path-order.js';

const sign = (n: number): number => Math.sign(n);
const features = join(import.meta.dirname, '..', '..', 'src', 'features');
const templatePaths = readdirSync(features, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => relative(features, join(e.parentPath, e.name)).split(sep).join('/'));

/** A deterministic pseudo-random generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('comparePaths', () => {
  it('sorts every template path as localeCompare does', () => {
    const paths = [...templatePaths, ...templatePaths.map((p) => p.replace(/\.ejs$/, ''))];
    expect(paths.length).toBeGreaterThan(100);
    expect([...paths].sort(comparePaths)).toEqual([...paths].sort((a, b) => a.localeCompare(b)));
  });

  it('agrees with localeCompare on random paths of letters, digits and _ - . /', () => {
    const next = random(42);
    const alphabet = 'aAbBzZ09_-./';
    const make = () =>
      Array.from({ length: 1 + Math.floor(next() * 5) }, () =>
        alphabet.charAt(Math.floor(next() * alphabet.length)),
      ).join('');
    for (let i = 0; i < 20_000; i++) {
      const a = make();
      // Half the time a variant of the same path, where case and length decide.
      const b = next() < 0.5 ? make() : next() < 0.5 ? a.toUpperCase() : a + make();
      expect(sign(comparePaths(a, b)), `${a} vs ${b}`).toBe(sign(a.localeCompare(b)));
    }
  });

  it('leaves any other character to localeCompare', () => {
    for (const [a, b] of [
      ['café', 'cafe'],
      ['a b', 'a_b'],
      ['a@b', 'a/b'],
      ['Ä', 'a'],
    ] as const) {
      expect(sign(comparePaths(a, b))).toBe(sign(a.localeCompare(b)));
    }
  });
});
