import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, trace } from '@opentelemetry/api';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import { features } from '../src/features/index.js';
import { traceLogFields } from '../src/features/otel.js';
import { tracingInstrumentations } from '../src/features/otel/sdk.js';
import { readOtelSettings } from '../src/features/otel/settings.js';
import { stopTracing, tracingStarted, markTracingStarted } from '../src/features/otel/state.js';
import { probe, testContext } from './helpers.js';

type SpanProcessor = NonNullable<NodeSDKConfiguration['spanProcessors']>[number];
type EndedSpan = Parameters<SpanProcessor['onEnd']>[0];

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe('OpenTelemetry', () => {
  it('preloads tracing the ESM way from the start script', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('node --import ./dist/features/otel/register.js dist/main.js');
  });

  it('is off without an endpoint, and reads the standard OTEL_* variables', () => {
    expect(readOtelSettings({})).toMatchObject({
      enabled: false,
      sampler: 'parentbased_traceidratio',
      ratio: 0.1,
    });
    const on = readOtelSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'shop',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_TRACES_SAMPLER_ARG: '1',
    });
    expect(on).toEqual({
      enabled: true,
      endpoint: 'http://collector:4318',
      serviceName: 'shop',
      sampler: 'always_on',
      ratio: 1,
    });
    expect(
      readOtelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })
        .enabled,
    ).toBe(false);
    expect(() => readOtelSettings({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG/,
    );
    expect(() => readOtelSettings({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(
      /OTEL_TRACES_SAMPLER/,
    );
    expect(() => readOtelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });

  it('without an endpoint: the SDK never starts, the app serves, log lines carry no trace ids', async () => {
    // The preload itself, as `node --import` runs it, with no endpoint in the environment.
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', '');
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '');
    await import('../src/features/otel/register.js');
    expect(tracingStarted()).toBe(false);

    const ctx = testContext();
    const lines: string[] = [];
    ctx.logger.info = (message, fields) => lines.push(JSON.stringify({ message, ...fields }));
    const app = await createApp(ctx, [...features, probe]);
    await request(app).get('/api/probe').expect(200);
    expect(tracingStarted()).toBe(false);
    expect(traceLogFields()).toBeUndefined();
    expect(lines.join('\n')).not.toContain('trace_id');
  });

  it('flushes on shutdown, bounded by a timeout', async () => {
    const shutdown = vi.fn(() => Promise.resolve());
    markTracingStarted(shutdown);
    expect(tracingStarted()).toBe(true);
    await stopTracing();
    expect(shutdown).toHaveBeenCalledOnce();
    expect(tracingStarted()).toBe(false);

    // A collector that never answers: shutdown goes on once the timeout passed (fake timers,
    // not this machine's speed).
    vi.useFakeTimers();
    markTracingStarted(() => new Promise<void>(() => undefined));
    let done = false;
    const hung = stopTracing(3000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(2999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await hung;
    expect(done).toBe(true);
  });

  it('a fetch made while handling a traced request carries its traceparent, in a CLIENT span', async () => {
    const received: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      received.push(req.headers.traceparent as string | undefined);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The app's instrumentations, with spans kept in memory instead of exported.
    for (const signal of ['TRACES', 'METRICS', 'LOGS'])
      vi.stubEnv(`OTEL_${signal}_EXPORTER`, 'none');
    const ended: EndedSpan[] = [];
    const sdk = new NodeSDK({
      instrumentations: tracingInstrumentations(),
      spanProcessors: [
        {
          onStart: () => undefined,
          onEnd: (span) => ended.push(span),
          forceFlush: () => Promise.resolve(),
          shutdown: () => Promise.resolve(),
        },
      ],
    });
    sdk.start();
    try {
      const parent = await trace
        .getTracer('test')
        .startActiveSpan('GET /api/probe', async (span) => {
          await (await fetch(`${url}/api/users/1`)).text();
          // A circuit breaker's health probe: no span, no header.
          await (await fetch(`${url}/healthz`)).text();
          span.end();
          return span.spanContext();
        });
      const client = ended.find((span) => span.kind === SpanKind.CLIENT);
      expect(client?.spanContext().traceId).toBe(parent.traceId);
      expect(client?.parentSpanContext?.spanId).toBe(parent.spanId);
      expect(received).toEqual([
        `00-${parent.traceId}-${client?.spanContext().spanId}-01`,
        undefined,
      ]);
    } finally {
      await sdk.shutdown();
      server.close();
    }
  });
});
