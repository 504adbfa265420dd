import { connect, type Socket } from 'node:net';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Feature } from '../src/feature.js';
import type { DrainTiming, startServer as StartServer } from '../src/server.js';
import { testContext } from './helpers.js';

/** The drain's steps, shortened so that the tests run fast (the real ones are in src/server.ts). */
const FAST: DrainTiming = { graceMs: 200, quietMs: 20, idleCloseMs: 1_000 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `check` returns true (polling); the test's own timeout bounds the wait. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(20);
}

/** Sends one raw HTTP/1.1 request on `socket` and resolves with the complete answer. */
function exchange(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? -1);
      if (length >= 0 && Buffer.byteLength(body) >= length) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe('graceful shutdown', () => {
  // A fresh server module for each test: "shutting down" is process-wide state (src/health.ts).
  let startServer: typeof StartServer;
  beforeEach(async () => {
    vi.resetModules();
    ({ startServer } = await import('../src/server.js'));
  });

  it('lets an in-flight request longer than the whole drain finish, then runs feature shutdowns', async () => {
    const events: string[] = [];
    const slow: Feature = {
      name: 'slow',
      setup(app) {
        app.get('/slow', async (_req, res) => {
          // Longer than the grace and the idle-close delay together: only a drain that waits for
          // requests in flight (rather than closing connections on a timer) lets it finish.
          await sleep(FAST.graceMs + FAST.idleCloseMs + 500);
          res.json({ done: true });
        });
      },
      shutdown() {
        events.push('feature shutdown');
      },
    };
    const running = await startServer(testContext({ PORT: '0', HOST: '127.0.0.1' }), [slow], FAST);
    const base = `http://127.0.0.1:${running.port}`;
    expect(running.server.keepAliveTimeout).toBeGreaterThan(60_000);

    let arrived = false;
    running.server.once('request', () => (arrived = true));
    const inFlight = fetch(`${base}/slow`).then((r) => r.json());
    await until(() => arrived);
    const stopped = running.stop().then(() => events.push('stopped'));

    expect(await inFlight).toEqual({ done: true });
    await stopped;
    expect(events).toEqual(['feature shutdown', 'stopped']);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('answers /readyz with 503 while draining, and still serves everything else', async () => {
    const running = await startServer(testContext({ PORT: '0', HOST: '127.0.0.1' }), [], {
      ...FAST,
      graceMs: 1_000,
    });
    const base = `http://127.0.0.1:${running.port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const stopped = running.stop();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'shutting-down' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await stopped;
  });

  it('answers a request sent on an idle keep-alive socket after the listener closed', async () => {
    // A proxy reuses idle sockets: one that the server closed as the proxy wrote a request on it
    // would lose that request (a reset, and proxies do not retry a POST).
    const running = await startServer(testContext({ PORT: '0', HOST: '127.0.0.1' }), [], FAST);
    const socket = connect(running.port, '127.0.0.1');
    expect(await exchange(socket, '/healthz')).toMatch(/^HTTP\/1\.1 200/);
    const stopped = running.stop();
    // The listener closes after the grace: new connections are refused from then on.
    await until(
      () =>
        new Promise<boolean>((resolve) => {
          const probe = connect(running.port, '127.0.0.1');
          probe.once('connect', () => resolve(!probe.destroy()));
          probe.once('error', () => resolve(true));
        }),
    );
    const late = await exchange(socket, '/healthz');
    expect(late).toMatch(/^HTTP\/1\.1 200/);
    // The answer closes the connection, so the server can stop without waiting for this client.
    expect(late).toMatch(/\r\nconnection: close\r\n/i);
    await stopped;
    socket.destroy();
  });
});
