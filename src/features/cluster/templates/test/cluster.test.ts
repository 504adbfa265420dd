import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { clusterOptions, RestartPolicy } from '../src/features/cluster.js';

describe('cluster options', () => {
  it('forks WEB_CONCURRENCY workers, else one per CPU, at least 1', () => {
    expect(clusterOptions({ WEB_CONCURRENCY: '3' }).workers).toBe(3);
    expect(clusterOptions({}).workers).toBeGreaterThanOrEqual(1);
    expect(() => clusterOptions({ WEB_CONCURRENCY: '0' })).toThrow(ConfigError);
    expect(() => clusterOptions({ WEB_CONCURRENCY: 'many' })).toThrow(ConfigError);
  });
});

describe('restart policy', () => {
  const options = { ...clusterOptions({ WEB_CONCURRENCY: '2' }), maxCrashes: 3 };

  it('respawns with an exponential, capped backoff', () => {
    const policy = new RestartPolicy({ ...options, maxCrashes: 100, crashWindowMs: 1e9 });
    const delays = Array.from({ length: 8 }, (_, i) => policy.onCrash(i));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('gives up after more than maxCrashes crashes within the window', () => {
    const policy = new RestartPolicy({ ...options, crashWindowMs: 60_000 });
    expect(policy.onCrash(0)).toBe(250);
    expect(policy.onCrash(1000)).toBe(500);
    expect(policy.onCrash(2000)).toBe(1000);
    expect(policy.onCrash(3000)).toBeUndefined();
  });

  it('forgets crashes older than the window', () => {
    const policy = new RestartPolicy({ ...options, crashWindowMs: 60_000 });
    for (const t of [0, 1000, 2000]) policy.onCrash(t);
    expect(policy.onCrash(70_000)).toBe(250);
    expect(policy.recentCrashes).toBe(1);
  });
});
