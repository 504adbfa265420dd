import type { Express } from 'express';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

/** What every feature and route gets. */
export interface AppContext {
  config: Config;
  logger: Logger;
}

/** 'down' takes this instance out of rotation; 'degraded' reports a problem but keeps serving. */
export type CheckStatus = 'ok' | 'degraded' | 'down';

/**
 * The contract of a feature module (src/features/<name>.ts). The app never imports a feature
 * directly: it walks the registry in src/features/index.ts, so adding or removing a feature never
 * touches app.ts, server.ts or your routes.
 */
export interface Feature {
  name: string;
  /** A logging feature provides the app's logger (the first one in the registry wins). */
  createLogger?(config: Config): Logger;
  /** Adds middleware or routes, before your routes (in registry order). */
  setup?(app: Express, ctx: AppContext): void | Promise<void>;
  /** A check reported by GET /readyz. */
  readiness?(): CheckStatus | Promise<CheckStatus>;
  /** Releases resources during graceful shutdown (in reverse registry order). */
  shutdown?(): void | Promise<void>;
  /** Takes over how processes start (cluster): it must call `serve()` in each serving process. */
  launch?(serve: () => Promise<void>, ctx: AppContext): void | Promise<void>;
  /** Runs in a process that supervises workers and serves no app (the cluster primary). */
  primary?(ctx: AppContext): void | Promise<void>;
}
