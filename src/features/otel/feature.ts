import type { Feature } from '../types.js';
import { otelComposeServices } from './compose.js';

/**
 * Tracing must be set up before the app imports what it instruments. The app is ESM, so the start
 * script preloads `register.js` with `--import`: it registers import-in-the-middle's loader hook
 * with `module.register` and starts the SDK, before `dist/main.js` is loaded. The start script
 * stays `node <flags> dist/main.js` with no shell syntax: the test-build, the Dockerfile CMD and
 * PM2 run it as an argv (cluster workers inherit the flag through execArgv).
 */
export const OTEL_NODE_FLAGS = '--import ./dist/features/otel/register.js';

export const otel: Feature = {
  id: 'otel',
  title: 'OpenTelemetry tracing',
  description:
    'Traces over OTLP/HTTP to any vendor (HTTP by route, pg, Redis, fetch), trace ids in log lines; off without an endpoint.',
  // Two agents patching http, pg and redis at once: double spans and double overhead.
  conflicts: ['newrelic'],
  dependencies: [
    '@opentelemetry/api',
    '@opentelemetry/sdk-node',
    '@opentelemetry/instrumentation-http',
    '@opentelemetry/instrumentation-pg',
    '@opentelemetry/instrumentation-redis',
    '@opentelemetry/instrumentation-undici',
    'import-in-the-middle',
  ],
  appModule: true,
  composeServices: otelComposeServices,
  scripts: () => ({
    start: `node ${OTEL_NODE_FLAGS} dist/main.js`,
  }),
  env: (project) => [
    {
      name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      example: '',
      comment:
        'OTLP/HTTP base URL of your collector or vendor (http://localhost:4318; docker-compose sets http://otel-collector:4318). Empty: tracing stays off.',
    },
    {
      name: 'OTEL_SERVICE_NAME',
      example: project.name,
      comment: 'The service name on every span.',
    },
    {
      name: 'OTEL_TRACES_SAMPLER',
      example: 'parentbased_traceidratio',
      comment:
        'Which requests are traced: a caller that traces decides for its requests, the ratio below for the rest (drawn before any span work: an untraced request costs next to nothing). parentbased_always_on traces all.',
    },
    {
      name: 'OTEL_TRACES_SAMPLER_ARG',
      example: '0.1',
      comment:
        'The share of requests traced (0 to 1) for the *traceidratio samplers: 1 in 10 by default, every route still shows up under load.',
    },
  ],
};
