import { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
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

/**
 * The route pattern Express matched (`/api/items/:id`, with the mount path of its router), read
 * when the response is done; undefined when no route matched (a 404).
 */
function routeOf(request: IncomingMessage): string | undefined {
  const { route, baseUrl } = request as IncomingMessage & {
    route?: { path?: unknown };
    baseUrl?: string;
  };
  return typeof route?.path === 'string' ? `${baseUrl ?? ''}${route.path}` : undefined;
}

/**
 * Names a server span by its route pattern (`GET /api/items/:id`) with `http.route`, just
 * before the HTTP instrumentation ends it. This replaces the Express instrumentation, which
 * wraps every middleware and route of every request to find the same pattern: about a third of
 * tracing's CPU cost on a small route.
 */
function nameByRoute(span: Span, request: unknown): void {
  if (!(request instanceof IncomingMessage)) return;
  const route = routeOf(request);
  if (route === undefined) return;
  span.setAttribute('http.route', route);
  span.updateName(`${request.method ?? 'GET'} ${route}`);
}

/** What is traced: incoming HTTP (named by route), SQL, Redis, and outgoing fetch calls. */
export function tracingInstrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has(pathOf(req.url)),
      applyCustomAttributesOnSpan: nameByRoute,
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
