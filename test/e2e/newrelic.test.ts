import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, parseLines, startArgs } from '../helpers/app-output.js';
import { freePort } from '../helpers/ports.js';
import { startApp } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A project with New Relic, generated with the full test-build, then started with its own start
 * script (the agent preloaded the ESM way). No traffic leaves the machine: without a key the agent
 * stays off, and with a key its collector is a loopback port that drops every connection.
 */
const parent = tempDir('cse-newrelic-');
let dir: string;
let args: string[];

beforeAll(async () => {
  dir = (await generateBuilt(parent, 'with-newrelic', ['--features', 'newrelic'])).dir;
  args = startArgs(dir);
}, 600_000);

const readLog = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');

/** A fake collector on loopback: counts connections and closes each at once. */
async function droppingCollector(): Promise<{ port: number; connections: () => number }> {
  const port = await freePort();
  let count = 0;
  const server: Server = createServer((socket) => {
    count += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port, connections: () => count };
}

/** A collector on loopback that accepts connections and never answers: a flush waits on it. */
async function silentCollector(): Promise<{ port: number; connections: () => number }> {
  const port = await freePort();
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port, connections: () => sockets.length };
}

describe('New Relic in the running app', () => {
  it('preloads the agent the ESM way from the start script, with newrelic.cjs', () => {
    expect(args).toEqual(['--import', 'newrelic/esm-loader.mjs', '-r', 'newrelic', 'dist/main.js']);
    expect(existsSync(join(dir, 'newrelic.cjs'))).toBe(true);
  });

  it('without a license key: serves, prints nothing from the agent, and the agent is loaded but off', async () => {
    const quiet = await startApp(dir, {}, args);
    expect((await fetch(`${quiet.url}/api/hello`)).status).toBe(200);
    expect(await quiet.stop()).toBe(0);
    expect(quiet.output()).not.toContain('newrelic');

    // The same start, with the agent's own log turned up into a file: it was there, and off.
    const logFile = join(parent, 'agent-off.log');
    const app = await startApp(dir, { NEW_RELIC_LOG: logFile, NEW_RELIC_LOG_LEVEL: 'info' }, args);
    expect((await fetch(`${app.url}/api/hello`)).status).toBe(200);
    expect(await app.stop()).toBe(0);
    const log = readLog(logFile);
    expect(log).toContain('Using New Relic for Node.js');
    expect(log).toContain('disabled in configuration');
  });

  it('with a key and an unreachable collector: instruments Express, keeps serving, exits cleanly', async () => {
    const collector = await droppingCollector();
    const logFile = join(parent, 'agent-on.log');
    const app = await startApp(
      dir,
      {
        NEW_RELIC_LICENSE_KEY: 'e2e0000000000000000000000000000000000000',
        NEW_RELIC_APP_NAME: 'e2e-app',
        NEW_RELIC_HOST: '127.0.0.1',
        NEW_RELIC_PORT: String(collector.port),
        NEW_RELIC_LOG: logFile,
        NEW_RELIC_LOG_LEVEL: 'trace',
        LOG_LEVEL: 'info',
      },
      args,
    );
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${app.url}/api/hello?i=${i}`);
      expect(res.status).toBe(200);
    }
    // The agent tried to reach its collector (here, and only here), and the app did not care.
    await eventually(
      () => (collector.connections() > 0 ? true : undefined),
      'a collector connection',
      20_000,
    );
    expect((await fetch(`${app.url}/api/hello`)).status).toBe(200);
    expect(await app.stop()).toBe(0);

    const log = readLog(logFile);
    // The ESM loader hooked the app's `import express`: its middleware runs inside transactions.
    expect(log).toMatch(/Nodejs\/Middleware\/Expressjs\/startRequest/);
    expect(log).toContain('/api/hello');
    const appLines = parseLines(app.output()).json.map((l) => l.message);
    expect(appLines).toContain('New Relic agent reporting');
  });

  it('the shutdown flush gives up after 3 s when the collector never answers', async () => {
    const collector = await silentCollector();
    const app = await startApp(
      dir,
      {
        NEW_RELIC_LICENSE_KEY: 'e2e0000000000000000000000000000000000000',
        NEW_RELIC_APP_NAME: 'e2e-app',
        NEW_RELIC_HOST: '127.0.0.1',
        NEW_RELIC_PORT: String(collector.port),
        LOG_LEVEL: 'info',
      },
      args,
    );
    expect((await fetch(`${app.url}/api/hello`)).status).toBe(200);
    // The agent's connection hangs: at shutdown its flush waits for the collector.
    await eventually(
      () => (collector.connections() > 0 ? true : undefined),
      'a collector connection',
      20_000,
    );
    const started = Date.now();
    expect(await app.stop()).toBe(0);
    const elapsed = Date.now() - started;
    // Stop = the server's drain grace (1 s, server.ts) + the flush, bounded at 3 s (+0.5 s, the
    // give-up margin in features/newrelic.ts) + process exit. At least 3 s shows the flush did
    // wait (so the bound was what ended it); the upper bound adds 2.5 s of slack for a loaded
    // machine, well below what a larger bound would take (a 10 s one measured 11.5 s here).
    expect(elapsed).toBeGreaterThanOrEqual(3_000);
    expect(elapsed).toBeLessThan(1_000 + 3_500 + 2_500);
    expect(app.output()).not.toContain('shutdown deadline reached');
  });
});
