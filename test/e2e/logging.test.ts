import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, parseLines, startArgs, type LogLine } from '../helpers/app-output.js';
import { startApp, type Running } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The two logging features, each in a project generated with the full test-build (install, build,
 * lint, the project's own tests, boot), then run as production runs it: the start script's argv
 * (New Relic preloaded, without a key), NODE_ENV=production. Assertions read what the real
 * process printed.
 */
const parent = tempDir('cse-logging-');
let winstonDir: string;
let pinoDir: string;

beforeAll(async () => {
  const [winston, pino] = await Promise.all([
    generateBuilt(parent, 'with-winston', ['--features', 'winston,newrelic,static']),
    generateBuilt(parent, 'with-pino', ['--features', 'pino,newrelic']),
  ]);
  winstonDir = winston.dir;
  pinoDir = pino.dir;
}, 900_000);

const SECRETS = {
  Authorization: 'Bearer e2e-secret-token',
  Cookie: 'sid=e2e-secret-cookie',
  'X-Api-Key': 'e2e-secret-key',
  'X-Auth-Token': 'e2e-secret-auth',
};
const SECRET_QUERY = 'token=e2e-secret-query&password=e2e-secret-pass';

function linesOf(app: Running): LogLine[] {
  return parseLines(app.output()).json;
}

async function requestLine(app: Running, requestId: string): Promise<LogLine> {
  return eventually(
    () => linesOf(app).find((l) => l.message === 'request finished' && l.requestId === requestId),
    `the request line of ${requestId}`,
  );
}

describe.each([
  { name: 'winston', dir: () => winstonDir, time: 'timestamp' },
  { name: 'pino', dir: () => pinoDir, time: 'time' },
])('$name logging in the running app', ({ name, dir, time }) => {
  it('logs one structured object per finished request, with the request id and no secrets', async () => {
    const app = await startApp(dir(), { LOG_LEVEL: 'http' }, startArgs(dir()));
    const given = `e2e-${name}-1`;
    const res = await fetch(`${app.url}/api/hello?name=e2e&${SECRET_QUERY}`, {
      headers: { 'X-Request-Id': given, ...SECRETS },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(given);

    const made = await fetch(`${app.url}/api/hello`);
    const madeId = made.headers.get('x-request-id') ?? '';
    expect(madeId).toMatch(/^[0-9a-f-]{36}$/);

    const missing = await fetch(`${app.url}/no-such-page`, {
      headers: { 'X-Request-Id': 'e2e-404' },
    });
    expect(missing.status).toBe(404);

    const line = await requestLine(app, given);
    expect(line.level).toBe('http');
    expect(line.route).toBe('/api/hello');
    expect(typeof line.durationMs).toBe('number');
    expect(Number.isNaN(Date.parse(String(line[time])))).toBe(false);
    if (name === 'winston') {
      expect(line).toMatchObject({ method: 'GET', status: 200, path: '/api/hello' });
    } else {
      expect(line).toMatchObject({ req: { id: given, method: 'GET' }, res: { statusCode: 200 } });
    }
    expect((await requestLine(app, madeId)).route).toBe('/api/hello');
    const notFound = await requestLine(app, 'e2e-404');
    expect(notFound.route).toBeUndefined();
    expect(name === 'winston' ? notFound.status : notFound.res).toEqual(
      name === 'winston' ? 404 : { statusCode: 404 },
    );

    expect(await app.stop()).toBe(0);
    const lines = linesOf(app);
    // Exactly one line per request, and no health-check lines (startApp polled /healthz).
    expect(
      lines.filter((l) => l.requestId === given && l.message === 'request finished'),
    ).toHaveLength(1);
    expect(lines.some((l) => JSON.stringify(l).includes('/healthz'))).toBe(false);
    expect(app.output()).not.toMatch(/e2e-secret-/);
    // Production output is JSON lines only, each with a level and a time.
    expect(parseLines(app.output()).other).toEqual([]);
    for (const l of lines) {
      expect(typeof l.level).toBe('string');
      expect(typeof l[time]).toBe('string');
    }
    expect(lines.map((l) => l.message)).toEqual(
      expect.arrayContaining(['server listening', 'shutting down']),
    );
  });

  it('logs requests the body parser refuses (400, 413)', async () => {
    const app = await startApp(dir(), { LOG_LEVEL: 'http', BODY_LIMIT: '1kb' }, startArgs(dir()));
    const post = (id: string, body: string) =>
      fetch(`${app.url}/api/echo`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Request-Id': id },
        body,
      });
    expect((await post('e2e-bad-json', '{"a":')).status).toBe(400);
    expect((await post('e2e-too-big', JSON.stringify({ big: 'x'.repeat(2048) }))).status).toBe(413);
    const statusOf = (l: LogLine) => (name === 'winston' ? l.status : l.res);
    expect(statusOf(await requestLine(app, 'e2e-bad-json'))).toEqual(
      name === 'winston' ? 400 : { statusCode: 400 },
    );
    expect(statusOf(await requestLine(app, 'e2e-too-big'))).toEqual(
      name === 'winston' ? 413 : { statusCode: 413 },
    );
    expect(await app.stop()).toBe(0);
  });

  it('honours LOG_LEVEL: at warn neither request nor info lines are written', async () => {
    const app = await startApp(dir(), { LOG_LEVEL: 'warn' }, startArgs(dir()));
    const res = await fetch(`${app.url}/api/hello`, { headers: { 'X-Request-Id': 'quiet-1' } });
    expect(res.status).toBe(200);
    expect(await app.stop()).toBe(0);
    expect(linesOf(app).filter((l) => l.level !== 'warn' && l.level !== 'error')).toEqual([]);
  });
});
