import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { createApp } from './app.js';
import type { AppContext, Feature } from './feature.js';
import { markShuttingDown } from './health.js';
import { serializeError } from './logger.js';

export interface RunningServer {
  server: Server;
  port: number;
  /** Graceful stop: refuse new connections, let in-flight requests finish, then close the rest. */
  stop(): Promise<void>;
}

/**
 * Node closes idle keep-alive sockets after `keepAliveTimeout`. A proxy in front (nginx keeps
 * upstream sockets 60 s) must never reuse a socket Node is closing, or clients get random 502s:
 * so Node waits longer than any proxy, and headersTimeout must be larger still.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HEADERS_TIMEOUT_MS = 66_000;

/**
 * The drain after SIGTERM, designed around the proxies' connection reuse. What loses a request is
 * closing a socket that carries one the server has not read yet: the peer gets a reset, and a proxy
 * never replays a POST it already sent. That happens when an idle keep-alive socket is closed just
 * as the proxy writes to it, and to connections still waiting in the kernel's accept queue when
 * the listener closes. So:
 * 1. For `graceMs`, /readyz answers 503 (HAProxy's check or Kubernetes takes the instance out)
 *    and everything else is served as usual, keep-alive included: a proxy keeps reusing its open
 *    sockets instead of opening new ones.
 * 2. Then the listener closes at the first moment no connection arrived for `quietMs`, so that
 *    none is waiting to be accepted. New connections are refused from then on, which a proxy
 *    retries on another instance for any method (nothing was sent).
 * 3. Every answer now says `Connection: close`: each socket ends right after a response, closed by
 *    us while it carries no request. In-flight requests finish.
 * 4. A socket idle for `idleCloseMs` is closed by us: longer than the generated proxies keep an
 *    idle upstream socket (nginx 2 s) or take to mark the instance down (HAProxy), so the proxy
 *    has closed or abandoned it before and never writes into a socket we are closing.
 * 5. SHUTDOWN_TIMEOUT_MS after the signal, whatever is left is closed.
 */
export interface DrainTiming {
  graceMs: number;
  quietMs: number;
  idleCloseMs: number;
}
const DRAIN: DrainTiming = { graceMs: 2_000, quietMs: 100, idleCloseMs: 3_000 };
const SWEEP_INTERVAL_MS = 50;

interface SocketState {
  /** Requests under way on the socket. */
  busy: number;
  /** When it connected or last finished a response. */
  since: number;
}

/**
 * Every open socket with its activity, and when the last one connected. `onRequest` is called by
 * the server's request handler itself: a second 'request' listener would make every request's
 * event copy its listener list.
 */
function trackSockets(server: Server): {
  sockets: Map<Socket, SocketState>;
  lastConnect(): number;
  onRequest(req: IncomingMessage, res: ServerResponse): void;
} {
  const sockets = new Map<Socket, SocketState>();
  let lastConnect = 0;
  server.on('connection', (socket: Socket) => {
    lastConnect = Date.now();
    sockets.set(socket, { busy: 0, since: lastConnect });
    socket.once('close', () => sockets.delete(socket));
  });
  // Runs on every response: one shared function with `on` (a response closes once), not a closure
  // and a `once` wrapper per request.
  function responseClosed(this: ServerResponse): void {
    const state = sockets.get(this.req.socket);
    if (!state) return;
    state.busy--;
    state.since = Date.now();
  }
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const state = sockets.get(req.socket);
    if (!state) return;
    state.busy++;
    res.on('close', responseClosed);
  };
  return { sockets, lastConnect: () => lastConnect, onRequest };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startServer(
  ctx: AppContext,
  features: readonly Feature[],
  drain: DrainTiming = DRAIN,
): Promise<RunningServer> {
  const app = await createApp(ctx, features);
  let listenerClosed = false;
  const server = createServer((req, res) => {
    onRequest(req, res);
    if (listenerClosed) res.setHeader('Connection', 'close');
    app(req, res);
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  const { sockets, lastConnect, onRequest } = trackSockets(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.port, ctx.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const closeLongIdle = (): void => {
    const now = Date.now();
    for (const [socket, state] of sockets) {
      // A socket that never carried a request may have one on its way: it gets the same wait.
      if (state.busy === 0 && now - state.since >= drain.idleCloseMs) socket.destroy();
    }
  };

  const stop = async (): Promise<void> => {
    markShuttingDown();
    const deadline = Date.now() + ctx.config.shutdownTimeoutMs;
    await sleep(Math.min(drain.graceMs, ctx.config.shutdownTimeoutMs));
    while (Date.now() - lastConnect() < drain.quietMs && Date.now() < deadline) {
      await sleep(drain.quietMs / 4);
    }
    listenerClosed = true;
    // net.Server's close: http.Server's own also closes every socket it deems idle at once,
    // including one whose request has arrived but is not read yet.
    const closed = new Promise<void>((resolve) =>
      NetServer.prototype.close.call(server, () => resolve()),
    );
    closeLongIdle();
    const sweep = setInterval(closeLongIdle, SWEEP_INTERVAL_MS);
    const forced = setTimeout(
      () => {
        ctx.logger.warn('shutdown deadline reached: closing remaining connections', {
          timeoutMs: ctx.config.shutdownTimeoutMs,
        });
        server.closeAllConnections();
      },
      Math.max(0, deadline - Date.now()),
    );
    await closed;
    clearInterval(sweep);
    clearTimeout(forced);
    for (const feature of [...features].reverse()) {
      try {
        await feature.shutdown?.();
      } catch (error) {
        ctx.logger.error('feature shutdown failed', {
          feature: feature.name,
          error: serializeError(error),
        });
      }
    }
  };
  return { server, port, stop };
}

/**
 * Serves until SIGTERM or SIGINT, then shuts down gracefully and exits 0. A second signal exits at
 * once. Tells a supervisor (PM2 `wait_ready`) when it is ready to serve.
 */
export async function serve(ctx: AppContext, features: readonly Feature[]): Promise<void> {
  const running = await startServer(ctx, features);
  ctx.logger.info('server listening', {
    port: running.port,
    host: ctx.config.host,
    pid: process.pid,
  });
  process.send?.('ready');

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      ctx.logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    ctx.logger.info('shutting down', { signal });
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        ctx.logger.error('shutdown failed', { error: serializeError(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
