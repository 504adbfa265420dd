import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
 * After SIGTERM the server keeps its listener this long while every answer closes its connection
 * (`Connection: close`). A keep-alive socket closed while idle may be carrying the client's next
 * request at that very moment, which the client would see as a reset: letting active clients
 * finish their keep-alive connections first avoids that race.
 */
const DRAIN_GRACE_MS = 1_000;

export async function startServer(
  ctx: AppContext,
  features: readonly Feature[],
): Promise<RunningServer> {
  const app = await createApp(ctx, features);
  let draining = false;
  const server = createServer((req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    app(req, res);
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.port, ctx.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const stop = async (): Promise<void> => {
    markShuttingDown();
    draining = true;
    const grace = Math.min(DRAIN_GRACE_MS, ctx.config.shutdownTimeoutMs);
    await new Promise((resolve) => setTimeout(resolve, grace));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive sockets become idle as their last response ends: close them as they do.
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    const deadline = setTimeout(() => {
      ctx.logger.warn('shutdown deadline reached: closing remaining connections', {
        timeoutMs: ctx.config.shutdownTimeoutMs,
      });
      server.closeAllConnections();
    }, ctx.config.shutdownTimeoutMs);
    deadline.unref();
    await closed;
    clearInterval(sweep);
    clearTimeout(deadline);
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
