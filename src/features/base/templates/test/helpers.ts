import { loadConfig, type Config } from '../src/config.js';
import { readAllSettings, type AppContext, type Feature } from '../src/feature.js';
import { features as installed } from '../src/features/index.js';
import { createConsoleLogger } from '../src/logger.js';

/**
 * A context for tests: config and feature settings from the given variables only (not the
 * machine's environment). Pass the features whose settings you need if they are not installed.
 */
export function testContext(
  env: Record<string, string> = {},
  features: readonly Feature[] = installed,
): AppContext {
  // DATABASE_URL: a test that asks for production still runs on the embedded database (the
  // postgres feature requires the variable in production; without that feature it is unused).
  // QUEUE_IN_PROCESS: likewise, jobs in process (the queue feature requires REDIS_URL otherwise).
  const vars = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATABASE_URL: 'pglite:memory',
    QUEUE_IN_PROCESS: 'true',
    ...env,
  };
  const config: Config = loadConfig(vars);
  return {
    config,
    logger: createConsoleLogger(config.logLevel),
    services: {},
    settings: readAllSettings(features, vars, config),
  };
}

/**
 * A route of the tests' own (GET /api/probe), so that they depend neither on your routes nor on
 * the examples: `createApp(ctx, [...features, probe])`.
 */
export const probe: Feature = {
  name: 'probe',
  setup(app) {
    app.get('/api/probe', (_req, res) => {
      res.json({ ok: true });
    });
  },
};
