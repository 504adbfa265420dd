import cluster from 'node:cluster';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, RequestHandler } from 'express';
import { AggregatorRegistry, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { readInt, readString } from '../config.js';
import type { AppContext, Feature } from '../feature.js';
import { serializeError } from '../logger.js';

type Env = Record<string, string | undefined>;

/** The label of requests no route matched (404s): never the raw URL, which is unbounded. */
export const UNMATCHED_ROUTE = '(unmatched)';
/**
 * Set by the cluster primary's hook before it forks: tells workers that the primary aggregates
 * their metrics. Under PM2 nobody sets it (PM2 owns the primary), so each process reports alone.
 */
const AGGREGATED_ENV = 'METRICS_CLUSTER_AGGREGATED';
const ASK = 'metrics:aggregate';
const ANSWER = 'metrics:aggregated';
const PRIMARY_TIMEOUT_MS = 10_000;

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

export interface MetricsSettings {
  /** Serve /metrics on this port instead of the app's (undefined: on the app's port). */
  port: number | undefined;
  /** Require `Authorization: Bearer <token>` when set. */
  token: string | undefined;
}

/** Reads METRICS_PORT and METRICS_TOKEN. Under PM2, instance i uses METRICS_PORT + i. */
export function metricsSettings(env: Env = process.env): MetricsSettings {
  const raw = env.METRICS_PORT?.trim();
  let port = raw ? readInt(env, 'METRICS_PORT', 0, 0, 65535) : undefined;
  const instance = Number(env.NODE_APP_INSTANCE);
  if (port && env.pm_id !== undefined && Number.isInteger(instance)) port += instance;
  const token = readString(env, 'METRICS_TOKEN', '');
  return { port, token: token || undefined };
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

function authorized(header: string | undefined, token: string): boolean {
  return timingSafeEqual(digest(header ?? ''), digest(`Bearer ${token}`));
}

interface Source {
  contentType: string;
  read(): Promise<string>;
}

const localSource: Source = {
  contentType: registry.contentType,
  read: () => registry.metrics(),
};

/** In a cluster worker: asks the primary for the aggregate of every worker. */
function primarySource(): Source {
  const pending = new Map<number, (answer: { body?: string; error?: string }) => void>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    const answer = message as { type?: unknown; id?: unknown; body?: string; error?: string };
    if (answer?.type !== ANSWER || typeof answer.id !== 'number') return;
    pending.get(answer.id)?.(answer);
  });
  return {
    contentType: registry.contentType,
    read: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('the cluster primary did not answer'));
        }, PRIMARY_TIMEOUT_MS);
        pending.set(id, (answer) => {
          clearTimeout(timer);
          pending.delete(id);
          if (answer.body !== undefined) resolve(answer.body);
          else reject(new Error(answer.error ?? 'metrics aggregation failed'));
        });
        process.send?.({ type: ASK, id });
      }),
  };
}

/** GET /metrics for Express or a bare node:http server; bearer-token guarded when configured. */
function scrapeHandler(
  source: Source,
  token: string | undefined,
  ctx: AppContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (token && !authorized(req.headers.authorization, token)) {
      res.writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Bearer' });
      res.end('Unauthorized\n');
      return;
    }
    source.read().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': source.contentType });
        res.end(body);
      },
      (error: unknown) => {
        ctx.logger.error('metrics scrape failed', { error: serializeError(error) });
        res.writeHead(503, { 'Content-Type': 'text/plain' });
        res.end('Metrics unavailable\n');
      },
    );
  };
}

/** A small server that answers only GET /metrics, on its own (private) port. */
async function listenMetrics(
  port: number,
  source: Source,
  token: string | undefined,
  ctx: AppContext,
): Promise<Server> {
  const scrape = scrapeHandler(source, token, ctx);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      scrape(req, res);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not Found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ctx.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  ctx.logger.info('metrics listening', {
    port: (server.address() as AddressInfo).port,
    path: '/metrics',
  });
  return server;
}

/** The route pattern that matched (`/users/:id`), never the raw URL. */
function routeLabel(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  if (route?.path === undefined) return UNMATCHED_ROUTE;
  return `${req.baseUrl}${String(route.path)}`;
}

const timing: RequestHandler = (req, res, next) => {
  const end = httpRequestDuration.startTimer();
  res.once('finish', () => {
    end({ method: req.method, route: routeLabel(req), status_code: String(res.statusCode) });
  });
  next();
};

let metricsServer: Server | undefined;
let workerReporting: Source | undefined;
let warnedPublic = false;

/** In a worker of our cluster: answer the primary's aggregation requests, ask it for scrapes. */
function workerSource(): Source {
  if (!workerReporting) {
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry(); // registers prom-client's worker-side listener
    workerReporting = primarySource();
  }
  return workerReporting;
}

const metricsFeature: Feature = {
  name: 'metrics',

  async setup(app, ctx) {
    const settings = metricsSettings();
    const aggregated = cluster.isWorker && process.env[AGGREGATED_ENV] === '1';
    const source = aggregated ? workerSource() : localSource;
    if (settings.port === undefined) {
      if (!settings.token && ctx.config.nodeEnv === 'production' && !warnedPublic) {
        warnedPublic = true;
        ctx.logger.warn('/metrics is public: set METRICS_TOKEN or METRICS_PORT');
      }
      // Registered before the timing middleware: scrapes are not counted.
      app.get('/metrics', scrapeHandler(source, settings.token, ctx));
    } else if (!aggregated && !metricsServer) {
      // With cluster the primary serves METRICS_PORT; otherwise this process does.
      metricsServer = await listenMetrics(settings.port, source, settings.token, ctx);
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

  /** In the cluster primary: aggregates the workers' metrics (prom-client AggregatorRegistry). */
  async primary(ctx) {
    process.env[AGGREGATED_ENV] = '1';
    const aggregator = new AggregatorRegistry();
    const source: Source = {
      contentType: aggregator.contentType,
      read: () => aggregator.clusterMetrics(),
    };
    cluster.on('message', (worker, message: unknown) => {
      const ask = message as { type?: unknown; id?: unknown } | null;
      if (ask?.type !== ASK || typeof ask.id !== 'number') return;
      const id = ask.id;
      const reply = (answer: { body?: string; error?: string }): void => {
        if (worker.isConnected()) worker.send({ type: ANSWER, id, ...answer });
      };
      source.read().then(
        (body) => reply({ body }),
        (error: unknown) => reply({ error: error instanceof Error ? error.message : 'failed' }),
      );
    });
    const { port, token } = metricsSettings();
    if (port !== undefined) metricsServer = await listenMetrics(port, source, token, ctx);
  },
};

export default metricsFeature;
