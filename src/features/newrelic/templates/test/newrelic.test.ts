import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushAgent, preloadedAgent } from '../src/features/newrelic.js';

const require = createRequire(import.meta.url);
const configPath = require.resolve('../newrelic.cjs');

interface AgentConfig {
  app_name: string[];
  agent_enabled: boolean;
  application_logging: { forwarding: { enabled: boolean } };
}

/** Evaluates newrelic.cjs as the agent would, with the given environment. */
function agentConfig(env: Record<string, string>): AgentConfig {
  vi.stubEnv('NEW_RELIC_LICENSE_KEY', '');
  vi.stubEnv('NEW_RELIC_APP_NAME', '');
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  Reflect.deleteProperty(require.cache, configPath);
  return (require(configPath) as { config: AgentConfig }).config;
}

afterEach(() => vi.unstubAllEnvs());

describe('New Relic', () => {
  it('starts the agent first, the ESM way, in the start script', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe(
      'node --import newrelic/esm-loader.mjs -r newrelic dist/main.js',
    );
  });

  it('stays disabled without a license key and is configured by the environment', () => {
    expect(agentConfig({}).agent_enabled).toBe(false);
    const on = agentConfig({ NEW_RELIC_LICENSE_KEY: 'abc', NEW_RELIC_APP_NAME: 'shop; shop-eu' });
    expect(on.agent_enabled).toBe(true);
    expect(on.app_name).toEqual(['shop', 'shop-eu']);
    expect(on.application_logging.forwarding.enabled).toBe(false);
  });

  it('never loads the agent itself (tests and tsx run without it)', () => {
    expect(preloadedAgent()).toBeUndefined();
  });

  it('flushes pending data on shutdown, bounded by a timeout', async () => {
    const shutdown = vi.fn((_options: object, callback: (error?: unknown) => void) => callback());
    await flushAgent({ shutdown }, 1000);
    expect(shutdown).toHaveBeenCalledWith(
      expect.objectContaining({ collectPendingData: true }),
      expect.any(Function),
    );

    // An agent that never answers: shutdown goes on once the timeout (plus its margin) passed,
    // measured on fake timers, not on this machine's speed.
    vi.useFakeTimers();
    try {
      let done = false;
      const hung = flushAgent({ shutdown: () => undefined }, 3000).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(3000);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(500);
      await hung;
      expect(done).toBe(true);
    } finally {
      vi.useRealTimers();
    }

    const failing = (_options: object, callback: (error?: unknown) => void) =>
      callback(new Error('collector unreachable'));
    await expect(flushAgent({ shutdown: failing }, 1000)).rejects.toThrow('collector unreachable');
  });
});
