import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { AppContext } from './feature.js';
import { serializeError } from './logger.js';

/** Throw this from a handler to answer with a status and a message the client may see. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'Not Found', path: req.path });
};

function statusOf(error: unknown): number {
  const status =
    (error as { status?: unknown; statusCode?: unknown } | null)?.status ??
    (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

/**
 * The last middleware. Express 5 sends errors thrown by async handlers here. Server errors are
 * logged and answered without details; stack traces are shown only outside production.
 */
export function errorHandler(ctx: AppContext): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = statusOf(error);
    const message = error instanceof Error ? error.message : 'Error';
    if (status >= 500) {
      ctx.logger.error('request failed', {
        method: req.method,
        path: req.path,
        error: serializeError(error),
      });
    }
    const body: Record<string, unknown> = {
      error: status >= 500 ? 'Internal Server Error' : message,
    };
    if (status >= 500 && ctx.config.nodeEnv !== 'production' && error instanceof Error)
      body.stack = error.stack;
    res.status(status).json(body);
  };
}
