import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parsePreset, presetFeatures } from '../../src/features/presets.js';
import {
  combineWithPreset,
  featuresAfterAdd,
  featuresAfterRemove,
  parseFeatureList,
  resolveFeatures,
} from '../../src/features/resolve.js';
import { selectableFeatures } from '../../src/features/index.js';
import { closest } from '../../src/ui/suggest.js';
import type { Feature } from '../../src/features/types.js';

describe('feature resolution', () => {
  it('orders features by the registry, whatever order they were asked in', () => {
    const order = selectableFeatures.map((f) => f.id);
    const asked = [...order]
      .reverse()
      .filter((id) => !['pm2', 'pino', 'haproxy', 'otel', 'morgan'].includes(id));
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
    // The exact list: dropping a feature from `full` (or adding a conflicting one) must fail.
    expect(presetFeatures('full')).toEqual([
      'cluster',
      'redis',
      'postgres',
      'queue',
      'rate-limit',
      'winston',
      'newrelic',
      'metrics',
      'static',
      'docker',
      'nginx',
      'kubernetes',
      'load-shedding',
    ]);
  });
});

describe('one case rule for feature ids and preset names', () => {
  it('accepts either in any case', () => {
    expect(resolveFeatures(['REDIS', 'Metrics'])).toEqual(['redis', 'metrics']);
    expect(parsePreset('FULL')).toBe('full');
    expect(parsePreset(' Standard ')).toBe('standard');
    expect(() => parsePreset('huge')).toThrow(/Unknown preset "huge"/);
  });
});

describe('a preset combined with explicit features', () => {
  it('lets an explicit pick replace the preset pick it conflicts with', () => {
    const full = presetFeatures('full');
    const withPino = combineWithPreset(full, ['pino']);
    expect(withPino).toContain('pino');
    expect(withPino).not.toContain('winston');
    expect(withPino.filter((id) => id !== 'pino')).toEqual(full.filter((id) => id !== 'winston'));
    const withPm2 = combineWithPreset(presetFeatures('standard'), ['pm2', 'haproxy']);
    expect(withPm2).toEqual(['pm2', 'redis', 'rate-limit', 'winston', 'metrics', 'haproxy']);
  });

  it('keeps a preset pick only with what it requires', () => {
    const f = (id: string, extra: Partial<Feature> = {}): Feature => ({
      id,
      title: id,
      description: id,
      ...extra,
    });
    // "b" requires "a", and "a" conflicts with the explicit "x": "b" must go too.
    const registry = [f('a', { conflicts: ['x'] }), f('b', { requires: ['a'] }), f('x'), f('c')];
    expect(combineWithPreset(['a', 'b', 'c'], ['x'], registry)).toEqual(['x', 'c']);
  });

  it('still refuses conflicting explicit picks', () => {
    expect(() => combineWithPreset(presetFeatures('full'), ['pino', 'winston'])).toThrow(
      /conflict/,
    );
  });
});

describe('features after add and remove', () => {
  it('adds what is required and refuses a conflict with an installed feature', () => {
    expect(featuresAfterAdd(['redis'], ['RATE-LIMIT'])).toEqual(['redis', 'rate-limit']);
    expect(() => featuresAfterAdd(['cluster'], ['pm2'])).toThrow(
      /Cannot add "pm2": it conflicts with the installed "cluster"/,
    );
    expect(() => featuresAfterAdd([], ['reddis'])).toThrow(/Did you mean "redis"/);
    expect(() => featuresAfterAdd([], [])).toThrow(/Name at least one feature/);
  });

  it('keeps the registry order after remove', () => {
    expect(featuresAfterRemove(['redis', 'rate-limit', 'metrics'], ['rate-limit'])).toEqual([
      'redis',
      'metrics',
    ]);
    expect(() => featuresAfterRemove(['redis'], ['bogus'])).toThrow(/Unknown feature "bogus"/);
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
