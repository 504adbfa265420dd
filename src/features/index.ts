/**
 * The registry of features, in the order they are listed, prompted, rendered and installed.
 * Add a feature: create `src/features/<id>/feature.ts` (+ `templates/`), then list it here.
 */
import type { Feature } from './types.js';
import { base } from './base/feature.js';
import { cluster } from './cluster/feature.js';
import { pm2 } from './pm2/feature.js';
import { redis } from './redis/feature.js';
import { postgres } from './postgres/feature.js';
import { queue } from './queue/feature.js';
import { rateLimit } from './rate-limit/feature.js';
import { winston } from './winston/feature.js';
import { pino } from './pino/feature.js';
import { newrelic } from './newrelic/feature.js';
import { otel } from './otel/feature.js';
import { morgan } from './morgan/feature.js';
import { metrics } from './metrics/feature.js';
import { staticAssets } from './static/feature.js';
import { docker } from './docker/feature.js';
import { nginx } from './nginx/feature.js';
import { haproxy } from './haproxy/feature.js';
import { kubernetes } from './kubernetes/feature.js';
import { loadShedding } from './load-shedding/feature.js';

export const allFeatures: readonly Feature[] = [
  base,
  cluster,
  pm2,
  redis,
  postgres,
  queue,
  rateLimit,
  winston,
  pino,
  newrelic,
  otel,
  morgan,
  metrics,
  staticAssets,
  docker,
  nginx,
  haproxy,
  kubernetes,
  loadShedding,
];

/**
 * The order in which the generated app sets up the modules of features with `appModule: true`,
 * earliest first: the cluster primary, the APM agent before what it instruments, request
 * logging before the middleware it should log, rate limiting before the cache and the routes.
 * One list, read in one place (a feature with an app module must be in it).
 */
export const appModuleOrder: readonly string[] = [
  'cluster',
  'newrelic',
  // Before request logging and metrics: a refused request costs one check and a small 503, and
  // an overloaded process writes no log line per refused request (the episode is logged once).
  'load-shedding',
  'otel',
  'pino',
  'winston',
  'morgan',
  'nginx',
  'haproxy',
  'metrics',
  'static',
  'rate-limit',
  'postgres',
  'redis',
  'queue',
];

/** Features a user can choose (everything but the always-on base app). */
export const selectableFeatures: readonly Feature[] = allFeatures.filter((f) => !f.hidden);

const byId = new Map(allFeatures.map((f) => [f.id, f]));

export function getFeature(id: string): Feature | undefined {
  return byId.get(id);
}
