import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COLLECTOR_CONFIG } from '../../src/features/otel/compose.js';
import { hasBinary } from '../helpers/binaries.js';
import { eventually, parseLines, startArgs, type LogLine } from '../helpers/app-output.js';
import { runCli } from '../helpers/cli.js';
import { assertValidCompose } from '../helpers/compose-schema.js';
import { freePort } from '../helpers/ports.js';
import { startApp, startRedis, type Running } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Tracing end to end: a project with otel, redis, pino and cluster, generated with the full
 * test-build, then run as production runs it (its start script, under cluster: a primary and a worker)
 * against a real redis-server and a small OTLP/HTTP receiver on loopback. Spans are sent as OTLP
 * JSON (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, a standard setting) so the receiver can read them
 * without a protobuf decoder. Then the same project swaps pino for morgan (`remove`, `add`: one
 * small install instead of a second project) and its access log is checked.
 */
const parent = tempDir('cse-otel-');
let dir: string;
let args: string[];
let redis: Running;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttribute[];
}
interface Span extends OtlpSpan {
  service: string | undefined;
  attr(key: string): string | number | undefined;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

function valueOf(value: OtlpValue | undefined): string | number | undefined {
  if (value?.stringValue !== undefined) return value.stringValue;
  if (value?.intValue !== undefined) return Number(value.intValue);
  return undefined;
}
const attrOf = (attributes: OtlpAttribute[] | undefined, key: string) =>
  valueOf(attributes?.find((a) => a.key === key)?.value);

/** An OTLP/HTTP receiver for JSON traces: keeps every span it is sent. */
async function otlpReceiver(): Promise<{ url: string; spans: Span[]; contentTypes: string[] }> {
  const spans: Span[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      contentTypes.push(`${req.url} ${req.headers['content-type']}`);
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as OtlpExport;
        for (const rs of body.resourceSpans ?? []) {
          const service = attrOf(rs.resource?.attributes, 'service.name');
          for (const ss of rs.scopeSpans ?? []) {
            for (const span of ss.spans ?? []) {
              spans.push({
                ...span,
                service: service === undefined ? undefined : String(service),
                attr: (key) => attrOf(span.attributes, key),
              });
            }
          }
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${port}`, spans, contentTypes };
}

/** Waits until /readyz reports Redis connected (the first request must reach the real Redis). */
async function redisReady(app: Running): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const body = await (await fetch(`${app.url}/readyz`)).text();
    if (body.includes('"redis":"ok"')) return;
    if (Date.now() > deadline) throw new Error(`Redis never became ready: ${body}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A span's ancestors within its trace, nearest first. */
function ancestors(span: Span, all: Span[]): Span[] {
  const chain: Span[] = [];
  let current: Span | undefined = span;
  while (current?.parentSpanId) {
    const parentId: string = current.parentSpanId;
    current = all.find((s) => s.spanId === parentId && s.traceId === span.traceId);
    if (current) chain.push(current);
  }
  return chain;
}

describe.skipIf(!hasBinary('redis-server'))('OpenTelemetry in the running app', () => {
  beforeAll(async () => {
    dir = (await generateBuilt(parent, 'with-otel', ['--features', 'otel,redis,pino,cluster'])).dir;
    args = startArgs(dir);
    redis = await startRedis();
  }, 600_000);

  afterAll(async () => {
    await redis?.stop();
  });

  it('preloads register.js with --import from the start script', () => {
    expect(args).toEqual(['--import', './dist/features/otel/register.js', 'dist/main.js']);
  });

  it('under cluster: a request exports a server span named by its route, a Redis child span, and its log line carries the trace id', async () => {
    const receiver = await otlpReceiver();
    const app = await startApp(
      dir,
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        REDIS_URL: redis.url,
        WEB_CONCURRENCY: '1',
        LOG_LEVEL: 'http',
      },
      args,
    );
    await redisReady(app);
    expect(parseLines(app.output()).json.map((l) => l.message)).toContain(
      'OpenTelemetry tracing on',
    );
    const res = await fetch(`${app.url}/api/slow?n=7`);
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id') ?? '';
    const line = await eventually(
      () =>
        parseLines(app.output()).json.find(
          (l: LogLine) => l.message === 'request finished' && l.requestId === requestId,
        ),
      'the request line',
    );
    // The spans still buffered are sent by each worker's shutdown flush (the SDK's batch delay
    // is 5 s): stopping the app right away proves the flush.
    expect(await app.stop()).toBe(0);

    const server = receiver.spans.find((s) => s.kind === 2 && s.attr('http.route') === '/api/slow');
    expect(server, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    expect(server!.name).toBe('GET /api/slow');
    expect(server!.attr('http.request.method') ?? server!.attr('http.method')).toBe('GET');
    expect(server!.attr('http.response.status_code') ?? server!.attr('http.status_code')).toBe(200);
    expect(server!.service).toBe('with-otel');

    const redisSpans = receiver.spans.filter(
      (s) =>
        s.traceId === server!.traceId &&
        (s.attr('db.system.name') ?? s.attr('db.system')) === 'redis',
    );
    expect(redisSpans.length).toBeGreaterThan(0);
    for (const span of redisSpans) {
      expect(ancestors(span, receiver.spans).map((s) => s.spanId)).toContain(server!.spanId);
    }

    expect(line).toMatchObject({ trace_id: server!.traceId, span_id: server!.spanId });
    // Probes are not traced.
    expect(receiver.spans.some((s) => String(s.attr('url.path')).startsWith('/readyz'))).toBe(
      false,
    );
  });

  it('sampling drawn up front: at ratio 0 a request is not traced, unless its caller traces it', async () => {
    const receiver = await otlpReceiver();
    const app = await startApp(
      dir,
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
        REDIS_URL: redis.url,
        WEB_CONCURRENCY: '1',
      },
      args,
    );
    await redisReady(app);
    expect((await fetch(`${app.url}/api/slow?n=1`)).status).toBe(200);
    const caller = '0af7651916cd43dd8448eb211c80319c';
    const traced = await fetch(`${app.url}/api/slow?n=2`, {
      headers: { traceparent: `00-${caller}-b7ad6b7169203331-01` },
    });
    expect(traced.status).toBe(200);
    expect(await app.stop()).toBe(0);
    const servers = receiver.spans.filter((s) => s.kind === 2);
    expect(servers.map((s) => [s.traceId, s.parentSpanId, s.name])).toEqual([
      [caller, 'b7ad6b7169203331', 'GET /api/slow'],
    ]);
    // The untraced request's Redis calls made no spans either: only the traced one's remain.
    expect(receiver.spans.every((s) => s.traceId === caller)).toBe(true);
  });

  it('without an endpoint: the SDK stays off, the app serves, log lines carry no trace ids', async () => {
    const app = await startApp(
      dir,
      { REDIS_URL: redis.url, WEB_CONCURRENCY: '1', LOG_LEVEL: 'debug' },
      args,
    );
    const res = await fetch(`${app.url}/api/hello`);
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id') ?? '';
    const line = await eventually(
      () =>
        parseLines(app.output()).json.find(
          (l: LogLine) => l.message === 'request finished' && l.requestId === requestId,
        ),
      'the request line',
    );
    expect(await app.stop()).toBe(0);
    expect(line.trace_id).toBeUndefined();
    const messages = parseLines(app.output()).json.map((l) => l.message);
    expect(messages).toContain('OpenTelemetry tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)');
    expect(messages).not.toContain('OpenTelemetry tracing on');
  });
});

/** The access line of the request with this id (morgan ends each line with it). */
function accessLine(app: Running, requestId: string): Promise<string> {
  return eventually(
    () =>
      app
        .output()
        .split('\n')
        .find((line) => line.endsWith(` ${requestId}`)),
    `the access line of ${requestId}`,
  );
}

describe.skipIf(!hasBinary('redis-server'))('morgan, in place of pino in the same project', () => {
  beforeAll(async () => {
    const steps = [
      ['remove', 'pino', '--cwd', dir, '--no-install'],
      ['add', 'morgan', '--cwd', dir, '--no-verify'],
    ];
    for (const step of steps) {
      const result = await runCli(step, { env: { npm_config_prefer_offline: 'true' } });
      expect(result.exitCode, result.stderr).toBe(0);
    }
    await execa('npm', ['run', 'build'], { cwd: dir });
  }, 300_000);

  it('writes one combined access line per request with its id; X-Forwarded-For counts only behind a trusted proxy', async () => {
    const headers = { 'X-Forwarded-For': '203.0.113.9', 'User-Agent': 'e2e-agent' };
    const app = await startApp(dir, { WEB_CONCURRENCY: '1' }, startArgs(dir));
    const res = await fetch(`${app.url}/api/hello?token=e2e-secret`, {
      headers: { ...headers, 'X-Request-Id': 'e2e-morgan-1' },
    });
    expect(res.status).toBe(200);
    const line = await accessLine(app, 'e2e-morgan-1');
    expect(await app.stop()).toBe(0);
    expect(line).toMatch(
      /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/api\/hello\?token=\[redacted\] HTTP\/1\.1" 200 \d+ "-" "e2e-agent" e2e-morgan-1$/,
    );
    expect(
      app
        .output()
        .split('\n')
        .filter((l) => l.includes('e2e-morgan-1')),
    ).toHaveLength(1);

    const proxied = await startApp(dir, { WEB_CONCURRENCY: '1', TRUST_PROXY: '1' }, startArgs(dir));
    await fetch(`${proxied.url}/api/hello`, {
      headers: { ...headers, 'X-Request-Id': 'e2e-morgan-2' },
    });
    const trusted = await accessLine(proxied, 'e2e-morgan-2');
    expect(await proxied.stop()).toBe(0);
    expect(trusted.startsWith('203.0.113.9 - - [')).toBe(true);
  });
});

/** Files only (no install): the compose contribution is all these tests read. */
async function generateFiles(name: string, features: string): Promise<string> {
  const cwd = join(parent, `files-${name}`);
  await mkdir(cwd);
  const result = await runCli([name, '--features', features, '--yes', '--no-install', '--no-git'], {
    cwd,
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return join(cwd, name);
}

interface Pipeline {
  receivers?: string[];
  processors?: string[];
  exporters?: string[];
}

describe('otel with docker: an OpenTelemetry Collector in docker-compose.yml', () => {
  let composeDir: string;
  /* eslint-disable @typescript-eslint/no-explicit-any -- the YAML documents are checked field by field */
  let compose: any;
  let collector: any;
  /* eslint-enable @typescript-eslint/no-explicit-any */

  beforeAll(async () => {
    composeDir = await generateFiles('traced', 'otel,docker,redis');
    compose = parse(await readFile(join(composeDir, 'docker-compose.yml'), 'utf8'));
    collector = parse(await readFile(join(composeDir, 'docker/otel-collector.yaml'), 'utf8'));
  }, 120_000);

  it('adds a hardened, pinned otel-collector service, and points the app at it', () => {
    expect(() => assertValidCompose(compose)).not.toThrow();
    const service = compose.services['otel-collector'];
    expect(service.image).toMatch(/^otel\/opentelemetry-collector:\d+\.\d+\.\d+$/);
    expect(service).toMatchObject({
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      deploy: { resources: { limits: { cpus: expect.any(String), memory: expect.any(String) } } },
    });
    expect(service.ports).toBeUndefined();
    expect(service.volumes).toEqual([`./docker/otel-collector.yaml:${COLLECTOR_CONFIG}:ro`]);
    expect(service.command[0]).toBe(`--config=${COLLECTOR_CONFIG}`);
    const app = compose.services.app;
    expect(app.environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect(app.depends_on['otel-collector']).toEqual({ condition: 'service_started' });
    // Redis's contribution to the same app service is kept beside it.
    expect(app.environment.REDIS_URL).toBeDefined();
  });

  it('the collector config: every pipeline component is defined, OTLP/HTTP in on 4318, debug out by default', () => {
    const pipelines = Object.entries<Pipeline>(collector.service.pipelines);
    expect(pipelines.map(([name]) => name)).toEqual(['traces']);
    for (const [name, pipeline] of pipelines) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        for (const id of pipeline[kind] ?? [])
          expect(collector[kind]?.[id], `${name}: ${kind} ${id}`).toBeDefined();
      }
    }
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(collector.service.pipelines.traces.processors).toEqual(['memory_limiter', 'batch']);
    expect(collector.service.pipelines.traces.exporters).toEqual(['debug']);
    // The exporters Compose may put in the pipeline instead: its default and the vendor's.
    const override =
      /^--config=yaml:service::pipelines::traces::exporters: \$\{COLLECTOR_TRACES_EXPORTERS:-(\[.*\])\}$/.exec(
        compose.services['otel-collector'].command[1],
      );
    expect(override?.[1]).toBe('[debug]');
    expect(collector.exporters['otlphttp/vendor'].endpoint).toBe('${env:VENDOR_OTLP_ENDPOINT}');
    const passed = Object.keys(compose.services['otel-collector'].environment);
    for (const variable of JSON.stringify(collector).match(/(?<=\$\{env:)\w+/g) ?? [])
      expect(passed, variable).toContain(variable);
  });

  it.skipIf(!hasBinary('docker-compose'))(
    'docker-compose config accepts the file and fills in the collector defaults',
    async () => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        REDIS_PASSWORD: 'e2e-secret-0123456789abcdef',
      };
      delete env.COLLECTOR_TRACES_EXPORTERS;
      delete env.VENDOR_OTLP_ENDPOINT;
      const ok = await execa('docker-compose', ['config'], {
        cwd: composeDir,
        env,
        extendEnv: false,
        reject: false,
      });
      expect(ok.exitCode, ok.stderr).toBe(0);
      const resolved = parse(ok.stdout);
      const service = resolved.services['otel-collector'];
      expect(service.command[1]).toBe(
        '--config=yaml:service::pipelines::traces::exporters: [debug]',
      );
      expect(service.environment.VENDOR_OTLP_ENDPOINT).toBe('http://localhost:4318');
    },
    60_000,
  );

  it('a workspace runs one collector for all its services, with the config file it mounts', async () => {
    const cwd = join(parent, 'files-workspace');
    await mkdir(cwd);
    const argv = ['shop', '--services', 'users,payments', '--features', 'otel,docker,redis'];
    const result = await runCli([...argv, '--yes', '--no-install', '--no-git'], { cwd });
    expect(result.exitCode, result.stderr).toBe(0);
    const root = join(cwd, 'shop');
    const doc = parse(await readFile(join(root, 'docker-compose.yml'), 'utf8'));
    expect(() => assertValidCompose(doc)).not.toThrow();
    const collectors = Object.keys(doc.services).filter((name) => name.includes('otel-collector'));
    expect(collectors).toEqual(['otel-collector']);
    const [mount] = doc.services['otel-collector'].volumes[0].split(':');
    expect(existsSync(join(root, mount))).toBe(true);
    for (const name of ['users', 'payments']) {
      expect(doc.services[name].environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
        'http://otel-collector:4318',
      );
      expect(doc.services[name].depends_on['otel-collector']).toBeDefined();
    }
  }, 120_000);

  it('without docker there is no collector config', async () => {
    const dir = await generateFiles('plain', 'otel');
    expect(existsSync(join(dir, 'docker/otel-collector.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'docker-compose.yml'))).toBe(false);
  }, 120_000);
});
