import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ConfigError, readInt, readString } from '../config.js';
import type { Feature } from '../feature.js';
import {
  aggregateFromWorker,
  aggregateInPrimary,
  AGGREGATED_ENV,
  type Source,
} from './metrics/aggregate.js';
import { listenMetrics, scrapeHandler } from './metrics/serve.js';

/** The label of requests no route matched (404s): never the raw URL, which is unbounded. */
export const UNMATCHED_ROUTE = '(unmatched)';
/** Shorter tokens are refused at start: a scrape token must not be guessable. */
const MIN_TOKEN_LENGTH = 16;

// Module-level and created once: createApp() may run many times in one process (tests).
export const registry = new Registry();
collectDefaultMetrics({ register: registry });
export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests in seconds, by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
/** Responses that say `X-Cache: HIT|MISS` (the redis feature's cacheResponse, cached routes). */
export const httpCacheLookups = new Counter({
  name: 'http_cache_lookups_total',
  help: 'Responses answered from the cache (hit) or not (miss), by route pattern.',
  labelNames: ['route', 'result'] as const,
  registers: [registry],
});

/** What the replica-lag gauge needs of the postgres feature's replicas (read loosely: optional). */
interface LaggingReplica {
  lagMs: number;
  /** Its pool's name (host:port), the label when known. */
  server?: { name?: string };
}
let currentReplicas: () => readonly LaggingReplica[] = () => [];
new Gauge({
  name: 'db_replica_lag_seconds',
  help: 'How far each database read replica is behind the primary, at its last check (+Inf: unknown).',
  labelNames: ['replica'] as const,
  // Across cluster workers, the worst view of a replica.
  aggregator: 'max',
  registers: [registry],
  collect() {
    this.reset();
    currentReplicas().forEach((replica, index) => {
      this.set({ replica: replica.server?.name ?? String(index) }, replica.lagMs / 1000);
    });
  },
});

export interface MetricsSettings {
  /** Serve /metrics on this port instead of the app's (undefined: on the app's port). */
  port: number | undefined;
  /** Require `Authorization: Bearer <token>` when set. */
  token: string | undefined;
  /** NODE_ENV=production: /metrics is private (port or token) or off. */
  production: boolean;
  /** A worker of our cluster: the primary aggregates every worker's metrics. */
  aggregated: boolean;
}

/**
 * Where /metrics is served: on METRICS_PORT; else on the app port behind METRICS_TOKEN; else, in
 * production, nowhere (private by default); else (development, test) openly on the app port.
 */
export function exposure(settings: MetricsSettings): 'own-port' | 'app-port' | 'off' {
  if (settings.port !== undefined) return 'own-port';
  if (settings.token || !settings.production) return 'app-port';
  return 'off';
}

/** The route pattern that matched (`/users/:id`), never the raw URL. */
function routeLabel(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  if (route?.path === undefined) return UNMATCHED_ROUTE;
  return `${req.baseUrl}${String(route.path)}`;
}

/** When the response started, kept on the response itself (see `timing`). */
const startedAt = Symbol('metrics: request started at');
type TimedResponse = Response & { [startedAt]?: bigint };

function recordDuration(this: TimedResponse): void {
  const started = this[startedAt];
  if (started === undefined) return;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const req = this.req;
  const route = routeLabel(req);
  httpRequestDuration.observe(
    { method: req.method, route, status_code: String(this.statusCode) },
    seconds,
  );
  const cache = this.getHeader('X-Cache');
  if (cache === 'HIT' || cache === 'MISS') {
    httpCacheLookups.inc({ route, result: cache === 'HIT' ? 'hit' : 'miss' });
  }
}

// Runs on every request: one shared listener (with `on`: a response finishes once) instead of a
// closure and a `once` wrapper per request; observe() with one labels object (startTimer() would
// add a closure and copy the labels).
const timing: RequestHandler = (_req, res, next) => {
  (res as TimedResponse)[startedAt] = process.hrtime.bigint();
  res.on('finish', recordDuration);
  next();
};

const localSource: Source = { contentType: registry.contentType, read: () => registry.metrics() };

let metricsServer: Server | undefined;
let warnedOff = false;

const metricsFeature: Feature<MetricsSettings> = {
  name: 'metrics',

  /** METRICS_PORT and METRICS_TOKEN. Under PM2, instance i uses METRICS_PORT + i. */
  readSettings(env, config) {
    let port = env.METRICS_PORT?.trim() ? readInt(env, 'METRICS_PORT', 0, 0, 65535) : undefined;
    const instance = Number(env.NODE_APP_INSTANCE);
    if (port && env.pm_id !== undefined && Number.isInteger(instance)) port += instance;
    const token = readString(env, 'METRICS_TOKEN', '') || undefined;
    if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(`METRICS_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters`);
    }
    return {
      port,
      token,
      production: config.nodeEnv === 'production',
      aggregated: cluster.isWorker && env[AGGREGATED_ENV] === '1',
    };
  },

  async setup(app, ctx, settings) {
    // Read at each scrape: the postgres feature (when installed) sets up its database later.
    const services = ctx.services as { database?: { replicas?: readonly LaggingReplica[] } };
    currentReplicas = () => services.database?.replicas ?? [];
    const source = settings.aggregated ? aggregateFromWorker(registry) : localSource;
    const where = exposure(settings);
    if (where === 'app-port') {
      // Registered before the timing middleware: scrapes are not counted.
      app.get('/metrics', scrapeHandler(source, settings.token, ctx));
    } else if (where === 'off' && !warnedOff) {
      warnedOff = true;
      ctx.logger.warn('/metrics is off in production: set METRICS_TOKEN or METRICS_PORT');
    } else if (where === 'own-port' && !settings.aggregated && !metricsServer) {
      // With cluster the primary serves METRICS_PORT; otherwise this process does.
      metricsServer = await listenMetrics(settings.port ?? 0, source, settings.token, ctx);
    }
    app.use(timing);
  },

  async shutdown() {
    const server = metricsServer;
    metricsServer = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  },

  /** In the cluster primary: aggregates the workers' metrics, and serves METRICS_PORT. */
  async primary(ctx, settings) {
    const source = aggregateInPrimary();
    if (settings.port !== undefined) {
      metricsServer = await listenMetrics(settings.port, source, settings.token, ctx);
    }
  },
};

export default metricsFeature;
