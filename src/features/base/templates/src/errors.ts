import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { AppContext } from './feature.js';
import { serializeError } from './logger.js';

/**
 * Throw this from a handler to answer with a status and a message the client may see (for 4xx:
 * `expose` is true, as in the http-errors convention that Express's own errors follow).
 */
export class HttpError extends Error {
  readonly expose: boolean;

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.expose = status < 500;
  }
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'Not Found', path: req.path });
};

/** The message a client may see: only when the error says so (`expose`), else the status text. */
function publicMessage(error: unknown, status: number): string {
  const expose = (error as { expose?: unknown } | null)?.expose === true;
  if (status < 500 && expose && error instanceof Error && error.message) return error.message;
  return STATUS_CODES[status] ?? 'Error';
}

function statusOf(error: unknown): number {
  const status =
    (error as { status?: unknown; statusCode?: unknown } | null)?.status ??
    (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

/**
 * The last middleware. Express 5 sends errors thrown by async handlers here. Server errors are
 * logged and answered without details. Stack traces are shown only when NODE_ENV is development
 * or test (never when it is production or unset).
 */
export function errorHandler(ctx: AppContext): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = statusOf(error);
    if (status >= 500) {
      ctx.logger.error('request failed', {
        method: req.method,
        path: req.path,
        error: serializeError(error),
      });
    }
    // Headers the error asks for (http-errors convention), such as Retry-After on a 503.
    const headers = (error as { headers?: unknown } | null)?.headers;
    if (headers && typeof headers === 'object') res.set(headers as Record<string, string>);
    const body: Record<string, unknown> = { error: publicMessage(error, status) };
    const debugging = ctx.config.nodeEnv === 'development' || ctx.config.nodeEnv === 'test';
    if (status >= 500 && debugging && error instanceof Error) body.stack = error.stack;
    res.status(status).json(body);
  };
}
