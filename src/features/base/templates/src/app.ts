import express, { type Express, type RequestHandler } from 'express';
import { errorHandler, notFound } from './errors.js';
import { settingsOf, type AppContext, type Feature } from './feature.js';
import { features as installedFeatures } from './features/index.js';
import { healthPaths, healthRoutes } from './health.js';
import { requestId } from './request-context.js';
import { routes } from './routes/index.js';
import { apiHeaders } from './security-headers.js';

/**
 * Builds the Express app: request id, security headers (security-headers.ts) → health checks →
 * installed features → JSON body parser → your routes → 404 → error handler. Health checks come before the features so
 * that logging, metrics and rate limits leave them alone; the body is parsed after them, so that a
 * request refused for its body (400, 413, 415) is still logged and counted, and a rate limit
 * refuses before any body is read.
 */
export async function createApp(
  ctx: AppContext,
  features: readonly Feature[] = installedFeatures,
): Promise<Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);
  // One middleware for both: every layer Express walks through costs about as much as the
  // headers themselves (measured: 8-10% of a small JSON request's CPU for the second layer).
  const trackRequest = requestId();
  app.use(function startRequest(req, res, next) {
    apiHeaders(res);
    trackRequest(req, res, next);
  });
  // Mounted on its two paths, not with app.use: every other request skips the health router on one
  // path test instead of going through it (a nested router's dispatch costs more than a route).
  // All methods, as before: the router itself answers HEAD and OPTIONS, and passes the rest on.
  app.all(healthPaths, healthRoutes(features));
  for (const feature of features) await feature.setup?.(app, ctx, settingsOf(ctx, feature));
  app.use(jsonBody(ctx.config.bodyLimit));
  app.use(routes(ctx));
  app.use(notFound);
  app.use(errorHandler(ctx));
  return app;
}

/**
 * express.json(), with requests that carry no body (GET, HEAD…) passed straight on: body-parser's
 * own checks on those cost more than a small route. No body means what body-parser means by it
 * (type-is's hasBody): neither Transfer-Encoding nor Content-Length; any other request, an empty
 * POST with Content-Length: 0 included, goes through the parser as before.
 */
function jsonBody(limit: string): RequestHandler {
  const parse = express.json({ limit });
  return function parseJsonBody(req, res, next) {
    const { headers } = req;
    if (headers['transfer-encoding'] === undefined && headers['content-length'] === undefined) {
      next();
      return;
    }
    parse(req, res, next);
  };
}
