import type { Config } from './config.js';
import type { AppContext, Feature } from './feature.js';
import { createConsoleLogger } from './logger.js';

/** The context shared by features and routes; the logger comes from a logging feature if any. */
export function createContext(config: Config, features: readonly Feature[]): AppContext {
  const provider = features.find((f) => f.createLogger);
  const logger = provider?.createLogger
    ? provider.createLogger(config)
    : createConsoleLogger(config.logLevel);
  return { config, logger };
}
