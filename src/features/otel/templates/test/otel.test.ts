import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import type { Feature } from '../src/feature.js';
import { features } from '../src/features/index.js';
import { traceLogFields } from '../src/features/otel.js';
import { tracingInstrumentations } from '../src/features/otel/sdk.js';
import { RequestSampler, serverShare } from '../src/features/otel/sampling.js';
import { traceIncomingRequests } from '../src/features/otel/server-spans.js';
import { readOtelSettings } from '../src/features/otel/settings.js';
import { stopTracing, tracingStarted, markTracingStarted } from '../src/features/otel/state.js';
import { currentRequestId } from '../src/request-context.js';
import { probe, testContext } from './helpers.js';

type SpanProcessor = NonNullable<NodeSDKConfiguration['spanProcessors']>[number];
type EndedSpan = Parameters<SpanProcessor['onEnd']>[0];

/**
 * The app's instrumentations with spans kept in memory instead of exported. `stop` also
 * unpatches them, so that the next test's SDK is the only one at work.
 */
function startSdk(sampler?: RequestSampler): { ended: EndedSpan[]; stop: () => Promise<void> } {
  for (const signal of ['TRACES', 'METRICS', 'LOGS']) vi.stubEnv(`OTEL_${signal}_EXPORTER`, 'none');
  const ended: EndedSpan[] = [];
  const instrumentations = tracingInstrumentations();
  const sdk = new NodeSDK({
    ...(sampler ? { sampler } : {}),
    instrumentations,
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
  return {
    ended,
    stop: async () => {
      await sdk.shutdown();
      for (const instrumentation of instrumentations) instrumentation.disable();
    },
  };
}

/**
 * A GET written on a plain socket: the test's own call must not be traced by the instrumented
 * fetch (it would send a trace context of its own). Resolves with the whole response.
 */
function rawGet(port: number, path: string, ...headers: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
    const head = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers];
    socket.write(`${head.join('\r\n')}\r\n\r\n`); // Connection: close ends it
  });
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  // Each test's SDK registers itself globally: unregister, so that the next one can.
  for (const api of [trace, context, propagation]) api.disable();
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
    const { ended, stop } = startSdk();
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
      await stop();
      server.close();
    }
  });

  it('samples by OTEL_TRACES_SAMPLER: parent-based follows the caller, roots go by the ratio', () => {
    const sampler = new RequestSampler('parentbased_traceidratio', 0.5);
    const withParent = (flags: number) =>
      trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: flags,
      });
    const decide = (s: RequestSampler, ctx = ROOT_CONTEXT, kind = SpanKind.INTERNAL, id = '') =>
      s.shouldSample(ctx, id.padStart(32, '0'), 'span', kind).decision;
    const [dropped, sampled] = [0, 2];
    expect(decide(sampler, withParent(TraceFlags.SAMPLED))).toBe(sampled);
    expect(decide(sampler, withParent(TraceFlags.NONE))).toBe(dropped);
    // A server span without a parent: its request was drawn already (serverShare).
    expect(decide(sampler, ROOT_CONTEXT, SpanKind.SERVER, 'ffffffff')).toBe(sampled);
    // Other roots: by the trace id's last 8 hex digits against the ratio.
    expect(decide(sampler, ROOT_CONTEXT, SpanKind.CONSUMER, '7fffffff')).toBe(sampled);
    expect(decide(sampler, ROOT_CONTEXT, SpanKind.CONSUMER, '80000000')).toBe(dropped);
    // A root inside a request belongs to a request not drawn: dropped, whatever its trace id.
    const inRequest = new RequestSampler('parentbased_traceidratio', 1, () => true);
    expect(decide(inRequest, ROOT_CONTEXT, SpanKind.CLIENT, '00000000')).toBe(dropped);
    expect(decide(inRequest, ROOT_CONTEXT, SpanKind.SERVER, '00000000')).toBe(sampled);
    expect(decide(inRequest, withParent(TraceFlags.SAMPLED), SpanKind.CLIENT)).toBe(sampled);
    // Not parent-based: the ratio decides every span, servers too, and nothing is drawn up front.
    const ratioOnly = new RequestSampler('traceidratio', 0.5);
    expect(decide(ratioOnly, withParent(TraceFlags.SAMPLED), SpanKind.SERVER, '80000000')).toBe(
      dropped,
    );
    expect(serverShare('traceidratio', 0.5)).toBe(1);
    expect(serverShare('parentbased_traceidratio', 0.1)).toBe(0.1);
    expect(serverShare('parentbased_always_on', 0.1)).toBe(1);
    expect(serverShare('parentbased_always_off', 0.1)).toBe(0);
  });

  it('a traced request leaves its response and socket shaped as an untraced one; an aborted one ends its span as an error', async () => {
    const { ended, stop } = startSdk(new RequestSampler('parentbased_traceidratio', 1));
    let draw = 0.9; // above the share: not traced
    const untrace = traceIncomingRequests(0.5, () => draw);
    // What V8's optimized code for sockets and responses sees: listeners and own properties.
    const shapes: string[] = [];
    const server = createServer((req, res) => {
      const listeners = ['close', 'finish'].map((event) => res.listenerCount(event));
      shapes.push(`${listeners.join()} ${Object.keys(req.socket).join()}`);
      if (req.url !== '/api/hang') res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const serverSpan = (path: string) =>
      ended.find((s) => s.kind === SpanKind.SERVER && s.attributes['url.path'] === path);
    try {
      expect(await rawGet(port, '/api/untraced')).toMatch(/^HTTP\/1\.1 200/);
      draw = 0.1;
      expect(await rawGet(port, '/api/traced')).toMatch(/^HTTP\/1\.1 200/);
      expect(shapes).toHaveLength(2);
      expect(shapes[1]).toBe(shapes[0]);
      expect(serverSpan('/api/untraced')).toBeUndefined();
      const traced = await vi.waitFor(() => serverSpan('/api/traced') ?? Promise.reject());
      expect(traced.attributes['http.response.status_code']).toBe(200);
      expect(traced.status.code).toBe(SpanStatusCode.UNSET);

      // A client that gives up before the answer: no response ever finishes.
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write('GET /api/hang HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await vi.waitFor(() => expect(shapes).toHaveLength(3));
      socket.destroy();
      const aborted = await vi.waitFor(() => serverSpan('/api/hang') ?? Promise.reject(), {
        timeout: 5_000,
      });
      expect(aborted.status.code).toBe(SpanStatusCode.ERROR);
    } finally {
      untrace();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stop();
    }
  });

  it('a request not drawn gets no span, nor do its calls, which pass on an unsampled traceparent; a caller that traces is followed', async () => {
    const received: (string | undefined)[] = [];
    const downstream = createServer((req, res) => {
      received.push(req.headers.traceparent as string | undefined);
      res.end('ok');
    });
    await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
    const downstreamUrl = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`;
    // Roots outside requests at ratio 1 (every one traced), as sdk.ts builds it, while no
    // request is drawn: what the request does must not be traced all the same.
    const { ended, stop } = startSdk(
      new RequestSampler('parentbased_traceidratio', 1, () => currentRequestId() !== undefined),
    );
    const untrace = traceIncomingRequests(0.5, () => 0.9);
    const calls: Feature = {
      name: 'calls',
      setup(app) {
        app.get('/api/calls/:id', async (_req, res) => {
          await (await fetch(`${downstreamUrl}/api/users/1`)).text();
          res.json({ ok: true });
        });
      },
    };
    const app = await createApp(testContext(), [...features, calls]);
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await rawGet(port, '/api/calls/1')).toMatch(/^HTTP\/1\.1 200/);
      expect(ended).toEqual([]);
      expect(received[0]).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-00$/);

      const caller = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
      const traceparent = `00-${caller.traceId}-${caller.spanId}-01`;
      expect(await rawGet(port, '/api/calls/2', `traceparent: ${traceparent}`)).toMatch(
        /^HTTP\/1\.1 200/,
      );
      const span = await vi.waitFor(() => {
        // (The downstream test server is traced too: its SERVER span has no route.)
        const found = ended.find(
          (s) => s.kind === SpanKind.SERVER && s.attributes['url.path'] === '/api/calls/2',
        );
        if (!found) throw new Error('no server span yet');
        return found;
      });
      expect(span.name).toBe('GET /api/calls/:id');
      expect(span.attributes).toMatchObject({
        'http.route': '/api/calls/:id',
        'http.request.method': 'GET',
        'http.response.status_code': 200,
      });
      expect(span.spanContext().traceId).toBe(caller.traceId);
      expect(span.parentSpanContext?.spanId).toBe(caller.spanId);
      const client = ended.find((s) => s.kind === SpanKind.CLIENT);
      expect(client?.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
      expect(
        ended.find((s) => s.kind === SpanKind.SERVER && s !== span)?.parentSpanContext?.spanId,
      ).toBe(client?.spanContext().spanId);
      expect(received[1]).toBe(`00-${caller.traceId}-${client?.spanContext().spanId}-01`);
    } finally {
      untrace();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stop();
      downstream.close();
    }
  });
});
