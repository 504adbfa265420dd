import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { OtelSettings } from './settings.js';
import { markTracingStarted } from './state.js';

/** Health and readiness probes come every few seconds from every checker: not worth a trace. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz']);

/** A path without its query string ('' for none). */
const pathOf = (url: string | undefined): string => url?.split('?', 1)[0] ?? '';

/** What is traced: incoming HTTP, Express routes, SQL, Redis, and outgoing fetch calls. */
export function tracingInstrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has(pathOf(req.url)),
    }),
    // Route handler spans only. A span for every app.use (helmet, the body parser, the request
    // id…) and every router would triple the spans per request and tell little (with Express 5
    // the router spans are even named after the wrong path). The server span still gets the
    // route pattern: the instrumentation records it before it decides to skip a layer.
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER],
    }),
    new PgInstrumentation(),
    new RedisInstrumentation(),
    // fetch (undici): a CLIENT span per call and the `traceparent` header, so a service called
    // with fetch (a workspace's service client too) continues this trace. The health probes of
    // a circuit breaker are not worth one.
    new UndiciInstrumentation({
      ignoreRequestHook: (request) => UNTRACED_PATHS.has(pathOf(request.path)),
    }),
  ];
}

/**
 * Starts the OpenTelemetry SDK: traces only, exported over OTLP (HTTP/protobuf unless
 * OTEL_EXPORTER_OTLP_PROTOCOL says otherwise) to the endpoint from the environment. The SDK reads
 * every other OTEL_* variable itself (headers, timeouts, resource attributes, propagators).
 */
export function startTracing(settings: OtelSettings): void {
  // The validated sampling, handed to the SDK's own environment parsing.
  process.env.OTEL_TRACES_SAMPLER = settings.sampler;
  process.env.OTEL_TRACES_SAMPLER_ARG = String(settings.ratio);
  // Metrics and logs have their own paths here (Prometheus, stdout): no OTLP exporters for
  // them unless asked for.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';

  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    instrumentations: tracingInstrumentations(),
  });
  sdk.start();
  markTracingStarted(() => sdk.shutdown());
}
