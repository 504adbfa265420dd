import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceClient, ServiceUnavailableError, serviceUrl } from '../src/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
const clients: ServiceClient[] = [];

/** A stub service on a free loopback port; `handle` may change between calls. */
async function stub(handle: { current: Handler }): Promise<string> {
  const server = createServer((req, res) => handle.current(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(
  baseUrl: string,
  extra: Partial<ConstructorParameters<typeof ServiceClient>[0]> = {},
) {
  const made = new ServiceClient({ name: 'users', baseUrl, backoffMs: 10, ...extra });
  clients.push(made);
  return made;
}

const json =
  (status: number, body: unknown): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

afterEach(async () => {
  for (const c of clients.splice(0)) c.stop();
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

describe('ServiceClient', () => {
  it('returns answers (a 404 too) and sends the request id', async () => {
    const seen: (string | undefined)[] = [];
    const handle = {
      current: ((req, res) => {
        seen.push(req.headers['x-request-id'] as string | undefined);
        json(req.url === '/api/users/1' ? 200 : 404, { url: req.url })(req, res);
      }) as Handler,
    };
    const users = client(await stub(handle), { requestId: () => 'req-42' });
    expect(await users.get('/api/users/1')).toEqual({ status: 200, body: { url: '/api/users/1' } });
    expect((await users.get('/api/users/2')).status).toBe(404);
    expect(seen).toEqual(['req-42', 'req-42']);
  });

  it('retries an idempotent call on a 503, never a POST', async () => {
    let calls = 0;
    const handle = {
      current: ((req, res) => {
        calls += 1;
        json(calls < 3 ? 503 : 200, { calls })(req, res);
      }) as Handler,
    };
    const users = client(await stub(handle));
    expect(await users.get('/x')).toEqual({ status: 200, body: { calls: 3 } });
    calls = 0;
    await expect(users.post('/x', { a: 1 })).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(calls).toBe(1);
  });

  it('gives up on a hung service after its timeout', async () => {
    const handle = { current: (() => undefined) as Handler };
    const users = client(await stub(handle), { timeoutMs: 200, retries: 0 });
    const started = Date.now();
    await expect(users.get('/hang')).rejects.toThrow(/timed out/);
    // Far below the 2 s default and any test timeout; generous for a busy machine.
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('opens after repeated failures (no more calls reach the service), closes when it answers', async () => {
    let calls = 0;
    const handle = {
      current: ((req, res) => {
        if (req.url !== '/healthz') calls += 1;
        json(503, {})(req, res);
      }) as Handler,
    };
    const users = client(await stub(handle), {
      retries: 0,
      failureThreshold: 3,
      probeIntervalMs: 50,
    });
    for (let i = 0; i < 3; i++) await expect(users.get('/x')).rejects.toThrow(/answered 503/);
    expect(users.state).toBe('open');
    await expect(users.get('/x')).rejects.toThrow(/circuit open/);
    expect(calls).toBe(3);
    handle.current = json(200, { ok: true });
    // The probe (GET /healthz) closes the breaker once the service answers.
    while (users.state === 'open') await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await users.get('/x')).body).toEqual({ ok: true });
  });
});

describe('serviceUrl', () => {
  it('reads <SERVICE>_URL, falls back, and refuses a value that is not a URL', () => {
    expect(serviceUrl({ ORDER_ITEMS_URL: 'http://items:3000/' }, 'order-items', 'x')).toBe(
      'http://items:3000',
    );
    expect(serviceUrl({}, 'users', 'http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000');
    expect(() => serviceUrl({ USERS_URL: 'users' }, 'users', 'x')).toThrow(/USERS_URL/);
  });
});
