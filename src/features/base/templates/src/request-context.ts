import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

interface RequestStore {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestStore>();

/** The id of the request being handled, wherever in its async call chain you are. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

const validId = /^[\w.:-]{1,128}$/;

/**
 * Honours an incoming X-Request-Id (from a proxy or a caller) when it looks sane, otherwise makes
 * one; echoes it in the response and keeps it in AsyncLocalStorage for every log line.
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const id = incoming && validId.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', id);
    res.locals.requestId = id;
    storage.run({ requestId: id }, next);
  };
}
