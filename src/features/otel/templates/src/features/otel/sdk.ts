import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { currentRequestId } from '../../request-context.js';
import { RequestSampler, serverShare } from './sampling.js';
import { pathOf, traceIncomingRequests, UNTRACED_PATHS } from './server-spans.js';
import type { OtelSettings } from './settings.js';
import { markTracingStarted } from './state.js';

/**
 * What the instrumentations trace: SQL, Redis, outgoing fetch and http.request calls. Incoming
 * requests get their SERVER span from server-spans.ts instead.
 */
export function tracingInstrumentations() {
  return [
    new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
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
  // Metrics and logs have their own paths here (Prometheus, stdout): no OTLP exporters for
  // them unless asked for.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';

  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    // A request's id is set for everything that runs while it is handled (src/app.ts).
    sampler: new RequestSampler(
      settings.sampler,
      settings.ratio,
      () => currentRequestId() !== undefined,
    ),
    instrumentations: tracingInstrumentations(),
  });
  sdk.start();
  traceIncomingRequests(serverShare(settings.sampler, settings.ratio));
  markTracingStarted(() => sdk.shutdown());
}
