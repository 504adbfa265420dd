import { trace, TraceFlags } from '@opentelemetry/api';
import type { Feature } from '../feature.js';
import { setRequestLogFields } from '../request-context.js';
import { readOtelSettings, type OtelSettings } from './otel/settings.js';
import { stopTracing, tracingStarted } from './otel/state.js';

/**
 * The ids of the sampled span active when a request starts (its server span), for every log line
 * of that request; nothing for a request that is not traced.
 */
export function traceLogFields(): Record<string, string> | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  if (!span || (span.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return { trace_id: span.traceId, span_id: span.spanId };
}

const feature: Feature<OtelSettings> = {
  name: 'otel',
  readSettings: readOtelSettings,
  setup(_app, ctx, settings) {
    if (tracingStarted()) {
      setRequestLogFields(traceLogFields);
      ctx.logger.info('OpenTelemetry tracing on', {
        endpoint: settings.endpoint,
        serviceName: settings.serviceName,
        sampler: settings.sampler,
        ratio: settings.ratio,
      });
    } else if (settings.enabled) {
      ctx.logger.warn(
        'OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing was not preloaded: start with npm start (node --import ./dist/features/otel/register.js dist/main.js)',
      );
    } else {
      ctx.logger.debug('OpenTelemetry tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)');
    }
  },
  async shutdown() {
    await stopTracing();
  },
};

export default feature;
