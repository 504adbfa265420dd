import type { ProjectContext } from '../types.js';

/**
 * The OpenTelemetry Collector's core distribution (OTLP in, OTLP and debug out), pinned to a
 * release like the other services' images, never a moving tag.
 */
export const COLLECTOR_IMAGE = 'otel/opentelemetry-collector:0.165.0';

/** Where the image reads its configuration, and the generated file mounted there. */
export const COLLECTOR_CONFIG = '/etc/otelcol/config.yaml';

/**
 * Which exporters the traces pipeline uses: `debug` (a line per batch in the collector's log)
 * unless COLLECTOR_TRACES_EXPORTERS names others, e.g. `[otlphttp/vendor]` once the vendor's
 * endpoint is set. Compose fills it in; the collector merges it over the file's pipeline.
 */
const EXPORTERS_OVERRIDE =
  'yaml:service::pipelines::traces::exporters: ${COLLECTOR_TRACES_EXPORTERS:-[debug]}';

/**
 * An `otel-collector` service between the app and your vendor: the app sends spans to it over
 * OTLP/HTTP inside the Compose network, it batches them and forwards them (docker/otel-collector.yaml).
 * Nothing is published on the host. Hardened like the other services: read-only root, no
 * capabilities, no privilege gain, bounded CPU and memory.
 */
export function otelComposeServices(_project: ProjectContext): Record<string, unknown> {
  return {
    app: {
      environment: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' },
      depends_on: { 'otel-collector': { condition: 'service_started' } },
    },
    'otel-collector': {
      image: COLLECTOR_IMAGE,
      command: [`--config=${COLLECTOR_CONFIG}`, `--config=${EXPORTERS_OVERRIDE}`],
      environment: {
        // The vendor's OTLP/HTTP endpoint and credentials, for the otlphttp/vendor exporter. The
        // collector refuses an exporter without an endpoint, even an unused one: until you set
        // it, a placeholder (the exporter is not in the pipeline by default).
        VENDOR_OTLP_ENDPOINT: '${VENDOR_OTLP_ENDPOINT:-http://localhost:4318}',
        VENDOR_OTLP_API_KEY: '${VENDOR_OTLP_API_KEY:-}',
        VENDOR_OTLP_AUTHORIZATION: '${VENDOR_OTLP_AUTHORIZATION:-}',
      },
      volumes: [`./docker/otel-collector.yaml:${COLLECTOR_CONFIG}:ro`],
      restart: 'unless-stopped',
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      deploy: { resources: { limits: { cpus: '0.5', memory: '256M' } } },
    },
  };
}
