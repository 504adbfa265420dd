import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppContext } from '../../feature.js';
import { serializeError } from '../../logger.js';
import type { Source } from './aggregate.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Compares in constant time (hashes have one length), so the token cannot be guessed by timing. */
function authorized(header: string | undefined, token: string): boolean {
  return timingSafeEqual(digest(header ?? ''), digest(`Bearer ${token}`));
}

/**
 * GET /metrics for Express or a bare node:http server; bearer-token guarded when configured.
 * A refused scrape costs no aggregation.
 */
export function scrapeHandler(
  source: Source,
  token: string | undefined,
  ctx: AppContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (token && !authorized(req.headers.authorization, token)) {
      res.writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Bearer' });
      res.end('Unauthorized\n');
      return;
    }
    source.read().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': source.contentType });
        res.end(body);
      },
      (error: unknown) => {
        ctx.logger.error('metrics scrape failed', { error: serializeError(error) });
        res.writeHead(503, { 'Content-Type': 'text/plain' });
        res.end('Metrics unavailable\n');
      },
    );
  };
}

/** A small server that answers only GET /metrics, on its own (private) port. */
export async function listenMetrics(
  port: number,
  source: Source,
  token: string | undefined,
  ctx: AppContext,
): Promise<Server> {
  const scrape = scrapeHandler(source, token, ctx);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      scrape(req, res);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not Found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ctx.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  ctx.logger.info('metrics listening', {
    port: (server.address() as AddressInfo).port,
    path: '/metrics',
  });
  return server;
}
