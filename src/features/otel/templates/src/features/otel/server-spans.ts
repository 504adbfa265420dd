import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { IncomingMessage, Server, type ServerResponse } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';

/**
 * A SERVER span per incoming request, named by its Express route pattern. This replaces the
 * incoming side of the HTTP instrumentation, which does its work for every request before any
 * sampler is asked (attributes, URL parsing, wrapping every listener of the request and the
 * response): on a small route that alone doubled the CPU per request, traced or not. Here a
 * request without a caller's trace context is drawn first, and one not chosen costs a random
 * number: it runs in no trace context at all. Spans its code would start have no parent then,
 * and RequestSampler (sampling.ts) drops every such span inside a request, so its queries and
 * calls are not traced either, and a call it makes still passes on a `traceparent` that says
 * "not sampled".
 *
 * A traced request must leave Node's own objects shaped as an untraced one does, or V8's
 * optimized code for sockets, streams and events sees two shapes, deoptimizes and slows every
 * request: at 1 in 10 that cost more than tracing them all. So a span adds no 'close' listener to
 * its response (it ends on Node's `http.server.response.finish` channel, which Node publishes for
 * every response once anyone listens), and `network.peer.address` is left out (reading
 * `socket.remoteAddress` stores the address on the socket; behind a proxy it is the proxy's).
 */

/** Health and readiness probes come every few seconds from every checker: not worth a trace. */
export const UNTRACED_PATHS = new Set(['/healthz', '/readyz']);

/** A path without its query string ('' for none). */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

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

/** How often spans of responses closed before they finished (the client went away) are ended. */
const ABORTED_SWEEP_MS = 1_000;

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

function startSpan(tracer: Tracer, request: IncomingMessage, parent: Context): Span {
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
  return tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
}

/**
 * Wraps every HTTP server's 'request' event (the app's, created later with `createServer`) in a
 * context: a SERVER span when the request is traced; nothing otherwise.
 * `rootShare`: the share of requests without a caller's trace context that are traced. Returns
 * the function that undoes it (for tests).
 */
export function traceIncomingRequests(
  rootShare: number,
  random: () => number = Math.random,
): () => void {
  // Looked up once: the SDK is started before this is called.
  const tracer = trace.getTracer('http-server');
  // The span of every traced response not finished yet.
  const open = new Map<ServerResponse, { span: Span; request: IncomingMessage }>();
  const onFinish = (message: unknown): void => {
    const { response } = message as { response: ServerResponse };
    const entry = open.get(response);
    if (entry === undefined) return;
    open.delete(response);
    endSpan(entry.span, entry.request, response);
  };
  subscribe('http.server.response.finish', onFinish);
  // A response closed before it finished gets no message: its span ends here, as an error, up to
  // a second late.
  const sweep = setInterval(() => {
    for (const [response, { span, request }] of open) {
      if (!response.closed) continue;
      open.delete(response);
      endSpan(span, request, response);
    }
  }, ABORTED_SWEEP_MS).unref();
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
    if (!chosen) return original.call(this, event, ...args);
    const span = startSpan(tracer, request, parent);
    open.set(response as ServerResponse, { span, request });
    return context.with(trace.setSpan(parent, span), () => original.call(this, event, ...args));
  }
  Server.prototype.emit = emit as Server['emit'];
  return () => {
    if (Server.prototype.emit === emit) Server.prototype.emit = original as Server['emit'];
    unsubscribe('http.server.response.finish', onFinish);
    clearInterval(sweep);
  };
}
