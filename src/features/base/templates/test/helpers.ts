import { loadConfig, type Config } from '../src/config.js';
import type { AppContext } from '../src/feature.js';
import { createConsoleLogger } from '../src/logger.js';

/** A context for tests: config from the given variables only (not the machine's environment). */
export function testContext(env: Record<string, string> = {}): AppContext {
  const config: Config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error', ...env });
  return { config, logger: createConsoleLogger(config.logLevel) };
}
