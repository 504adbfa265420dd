import type { Config } from './config.js';
import { readAllSettings, type AppContext, type Feature } from './feature.js';
import { createConsoleLogger } from './logger.js';

/**
 * The context shared by features and routes. Every feature's settings are read here, before
 * anything starts, so that a bad value stops the process at once; the logger comes from a logging
 * feature if any.
 */
export function createContext(
  config: Config,
  features: readonly Feature[],
  env: NodeJS.ProcessEnv = process.env,
): AppContext {
  const settings = readAllSettings(features, env, config);
  const provider = features.find((f) => f.createLogger);
  const logger = provider?.createLogger
    ? provider.createLogger(config, settings.get(provider.name))
    : createConsoleLogger(config.logLevel);
  return { config, logger, services: {}, settings };
}
