import type { Express } from 'express';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

/**
 * Clients that features create in `setup` (a Redis client, a cache) and share with your routes.
 * Each feature module adds its own entry, optional because the feature may be removed:
 *   declare module '../feature.js' { interface AppServices { cache?: Cache } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AppServices {}

/** What every feature and route gets. */
export interface AppContext {
  config: Config;
  logger: Logger;
  services: AppServices;
  /** Each feature's settings, by feature name: what its readSettings returned (see settingsOf). */
  settings: ReadonlyMap<string, unknown>;
}

/** 'down' takes this instance out of rotation; 'degraded' reports a problem but keeps serving. */
export type CheckStatus = 'ok' | 'degraded' | 'down';

/**
 * The contract of a feature module (src/features/<name>.ts). The app never imports a feature
 * directly: it walks the registry in src/features/index.ts, so adding or removing a feature never
 * touches app.ts, server.ts or your routes. `S` is the feature's settings.
 */
export interface Feature<S = unknown> {
  name: string;
  /**
   * Reads and validates the feature's environment once, in main.ts, before launch, in every
   * process (cluster primary, worker, PM2 instance): a bad value stops start-up with one line.
   * Throws ConfigError naming the variable. The other hooks get the result; none reads
   * process.env itself.
   */
  readSettings?(env: NodeJS.ProcessEnv, config: Config): S;
  /** A logging feature provides the app's logger (the first one in the registry wins). */
  createLogger?(config: Config, settings: S): Logger;
  /** Adds middleware or routes, before your routes (in registry order); may add ctx.services. */
  setup?(app: Express, ctx: AppContext, settings: S): void | Promise<void>;
  /** A check reported by GET /readyz. */
  readiness?(): CheckStatus | Promise<CheckStatus>;
  /** Releases resources during graceful shutdown (in reverse registry order). */
  shutdown?(): void | Promise<void>;
  /** Takes over how processes start (cluster): it must call `serve()` in each serving process. */
  launch?(serve: () => Promise<void>, ctx: AppContext, settings: S): void | Promise<void>;
  /** Runs in a process that supervises workers and serves no app (the cluster primary). */
  primary?(ctx: AppContext, settings: S): void | Promise<void>;
}

/** Reads every feature's settings; the first bad value throws its ConfigError. */
export function readAllSettings(
  features: readonly Feature[],
  env: NodeJS.ProcessEnv,
  config: Config,
): Map<string, unknown> {
  const settings = new Map<string, unknown>();
  for (const feature of features) {
    if (feature.readSettings) settings.set(feature.name, feature.readSettings(env, config));
  }
  return settings;
}

/** The settings a feature's readSettings returned when the context was created. */
export function settingsOf<S>(ctx: AppContext, feature: Feature<S>): S {
  if (feature.readSettings && !ctx.settings.has(feature.name)) {
    throw new Error(
      `the settings of feature "${feature.name}" were not read: create the context with its features`,
    );
  }
  return ctx.settings.get(feature.name) as S;
}
