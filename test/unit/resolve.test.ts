import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { presetFeatures } from '../../src/features/presets.js';
import { parseFeatureList, resolveFeatures } from '../../src/features/resolve.js';
import { selectableFeatures } from '../../src/features/index.js';
import { closest } from '../../src/ui/suggest.js';
import type { Feature } from '../../src/features/types.js';

describe('feature resolution', () => {
  it('orders features by the registry, whatever order they were asked in', () => {
    const order = selectableFeatures.map((f) => f.id);
    const asked = [...order].reverse().filter((id) => !['pm2', 'pino', 'haproxy'].includes(id));
    expect(resolveFeatures(asked)).toEqual(order.filter((id) => asked.includes(id)));
  });

  it('names the valid features and suggests the nearest for an unknown one', () => {
    expect(() => resolveFeatures(['reddis'])).toThrow(UsageError);
    expect(() => resolveFeatures(['reddis'])).toThrow(
      /Unknown feature "reddis". Did you mean "redis"\?/,
    );
    expect(() => resolveFeatures(['reddis'])).toThrow(/Valid features: .*cluster/);
    expect(() => resolveFeatures(['base'])).toThrow(/Unknown feature "base"/);
  });

  it('refuses conflicting features', () => {
    expect(() => resolveFeatures(['cluster', 'pm2'])).toThrow(/"cluster" and "pm2" conflict/);
    expect(() => resolveFeatures(['winston', 'pino'])).toThrow(/conflict/);
    expect(() => resolveFeatures(['nginx', 'haproxy'])).toThrow(/conflict/);
  });

  it('adds required features (transitively) and removes duplicates', () => {
    const f = (id: string, requires: string[] = []): Feature => ({
      id,
      title: id,
      description: id,
      requires,
    });
    const registry = [f('a'), f('b', ['a']), f('c', ['b']), f('d', ['zz'])];
    expect(resolveFeatures(['c'], registry)).toEqual(['a', 'b', 'c']);
    expect(() => resolveFeatures(['d'], registry)).toThrow(
      /Unknown feature "zz" \(required by "d"\)/,
    );
    expect(resolveFeatures(['redis', 'redis'])).toEqual(['redis']);
  });

  it('parses comma and space separated lists', () => {
    expect(parseFeatureList(' Redis, cluster  metrics,,')).toEqual(['redis', 'cluster', 'metrics']);
  });

  it('builds presets that resolve without conflicts', () => {
    expect(presetFeatures('minimal')).toEqual([]);
    expect(resolveFeatures(presetFeatures('standard'))).toEqual([
      'cluster',
      'redis',
      'rate-limit',
      'winston',
      'metrics',
    ]);
    const full = resolveFeatures(presetFeatures('full'));
    expect(full).toEqual(
      expect.arrayContaining(['cluster', 'redis', 'docker', 'nginx', 'kubernetes']),
    );
    expect(full).not.toContain('pm2');
    expect(full).not.toContain('pino');
    expect(full).not.toContain('haproxy');
  });
});

describe('closest', () => {
  it('suggests near misses and nothing for unrelated words', () => {
    expect(closest('clustr', ['cluster', 'redis'])).toBe('cluster');
    expect(closest('rate', ['rate-limit', 'redis'])).toBe('rate-limit');
    expect(closest('kubernetis', ['kubernetes'])).toBe('kubernetes');
    expect(closest('zzzzzz', ['cluster', 'redis'])).toBeUndefined();
  });
});
