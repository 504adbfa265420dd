import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';

const require = createRequire(import.meta.url);
const file = require.resolve('../ecosystem.config.cjs');

interface App {
  script: string;
  exec_mode: string;
  instances: number | string;
  wait_ready: boolean;
  kill_timeout: number;
  exp_backoff_restart_delay: number;
  max_memory_restart: string;
}

/** Loads ecosystem.config.cjs afresh, as the pm2 command would with the current environment. */
function load(): App {
  Reflect.deleteProperty(require.cache, file);
  const config = require(file) as { apps: App[] };
  const [app] = config.apps;
  if (!app) throw new Error('no app in ecosystem.config.cjs');
  return app;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('ecosystem.config.cjs', () => {
  it('runs the built app in cluster mode and waits for its ready signal', () => {
    const app = load();
    expect(app.script).toBe('dist/main.js');
    expect(app.exec_mode).toBe('cluster');
    expect(app.wait_ready).toBe(true);
    expect(app.exp_backoff_restart_delay).toBeGreaterThan(0);
    expect(app.max_memory_restart).toMatch(/^\d+[KMG]$/);
  });

  it('takes instances from WEB_CONCURRENCY, else max', () => {
    vi.stubEnv('WEB_CONCURRENCY', '3');
    expect(load().instances).toBe(3);
    vi.stubEnv('WEB_CONCURRENCY', '');
    expect(load().instances).toBe('max');
  });

  it("waits longer than the app's own drain deadline before SIGKILL", () => {
    vi.stubEnv('SHUTDOWN_TIMEOUT_MS', '');
    expect(load().kill_timeout).toBeGreaterThan(10_000);
    vi.stubEnv('SHUTDOWN_TIMEOUT_MS', '30000');
    expect(load().kill_timeout).toBeGreaterThan(30_000);
  });
});
