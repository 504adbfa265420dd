import express, { type Express } from 'express';
import helmet from 'helmet';
import { errorHandler, notFound } from './errors.js';
import { settingsOf, type AppContext, type Feature } from './feature.js';
import { features as installedFeatures } from './features/index.js';
import { healthRoutes } from './health.js';
import { requestId } from './request-context.js';
import { routes } from './routes/index.js';

/**
 * Builds the Express app: request id, security headers → health checks → installed features →
 * JSON body parser → your routes → 404 → error handler. Health checks come before the features so
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
  app.use(requestId());
  app.use(helmet());
  app.use(healthRoutes(features));
  for (const feature of features) await feature.setup?.(app, ctx, settingsOf(ctx, feature));
  app.use(express.json({ limit: ctx.config.bodyLimit }));
  app.use(routes(ctx));
  app.use(notFound);
  app.use(errorHandler(ctx));
  return app;
}
