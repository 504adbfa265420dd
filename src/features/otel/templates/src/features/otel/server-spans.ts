import { randomUUID } from 'node:crypto';
import { IncomingMessage, Server, type ServerResponse } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type Span,
} from '@opentelemetry/api';

/**
 * A SERVER span per incoming request, named by its Express route pattern. This replaces the
 * incoming side of the HTTP instrumentation, which does its work for every request before any
 * sampler is asked (attributes, URL parsing, wrapping every listener of the request and the
 * response): on a small route that alone doubled the CPU per request, traced or not. Here a
 * request without a caller's trace context is drawn first, and one not chosen costs a random
 * number, a random id and a context.
 */

/** Health and readiness probes come every few seconds from every checker: not worth a trace. */
export const UNTRACED_PATHS = new Set(['/healthz', '/readyz']);

/** A path without its query string ('' for none). */
export const pathOf = (url: string | undefined): string => url?.split('?', 1)[0] ?? '';

/**
 * The route pattern Express matched (`/api/items/:id`, with the mount path of its router), read
 * when the response is done; undefined when no route matched (a 404).
 */
export function routeOf(request: IncomingMessage): string | undefined {
  const { route, baseUrl } = request as IncomingMessage & {
    route?: { path?: unknown };
    baseUrl?: string;
  };
  return typeof route?.path === 'string' ? `${baseUrl ?? ''}${route.path}` : undefined;
}

/**
 * The context a request not chosen runs in: a trace that is not sampled. Its queries and calls
 * then make no spans either (their parent is not sampled), and a service it calls receives a
 * `traceparent` saying so, instead of starting traces of its own.
 */
function unsampledContext(): Context {
  // One random UUID makes both ids (the cheapest random source: this runs for most requests).
  const hex = randomUUID().replaceAll('-', '');
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: hex,
    spanId: hex.slice(16),
    traceFlags: TraceFlags.NONE,
  });
}

function endSpan(span: Span, request: IncomingMessage, response: ServerResponse): void {
  const route = routeOf(request);
  if (route !== undefined) {
    span.setAttribute('http.route', route);
    span.updateName(`${request.method ?? 'GET'} ${route}`);
  }
  span.setAttribute('http.response.status_code', response.statusCode);
  if (response.statusCode >= 500 || !response.writableFinished) {
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function startSpan(request: IncomingMessage, parent: Context): Span {
  const method = request.method ?? 'GET';
  const attributes: Record<string, string> = {
    'http.request.method': method,
    'url.path': pathOf(request.url),
    'url.scheme': 'http',
    'network.protocol.version': request.httpVersion,
  };
  const host = request.headers.host;
  if (host) attributes['server.address'] = host.replace(/:\d+$/, '');
  const agent = request.headers['user-agent'];
  if (agent) attributes['user_agent.original'] = agent;
  const peer = request.socket.remoteAddress;
  if (peer) attributes['network.peer.address'] = peer;
  return trace
    .getTracer('http-server')
    .startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
}

/**
 * Wraps every HTTP server's 'request' event (the app's, created later with `createServer`) in a
 * context: a SERVER span when the request is traced, an unsampled trace otherwise.
 * `rootShare`: the share of requests without a caller's trace context that are traced. Returns
 * the function that undoes it (for tests).
 */
export function traceIncomingRequests(
  rootShare: number,
  random: () => number = Math.random,
): () => void {
  type Emit = (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  const original = Server.prototype.emit as Emit;
  function emit(this: Server, event: string | symbol, ...args: unknown[]): boolean {
    const [request, response] = args;
    if (
      event !== 'request' ||
      !(request instanceof IncomingMessage) ||
      UNTRACED_PATHS.has(pathOf(request.url))
    ) {
      return original.call(this, event, ...args);
    }
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const chosen = trace.getSpanContext(parent) !== undefined || random() < rootShare;
    if (!chosen) {
      return context.with(unsampledContext(), () => original.call(this, event, ...args));
    }
    const span = startSpan(request, parent);
    (response as ServerResponse).once('close', () =>
      endSpan(span, request, response as ServerResponse),
    );
    return context.with(trace.setSpan(parent, span), () => original.call(this, event, ...args));
  }
  Server.prototype.emit = emit as Server['emit'];
  return () => {
    if (Server.prototype.emit === emit) Server.prototype.emit = original as Server['emit'];
  };
}
