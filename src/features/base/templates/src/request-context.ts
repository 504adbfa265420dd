import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

interface RequestStore {
  requestId: string;
  /** Fields a feature adds to every log line of the request (otel: trace_id, span_id). */
  logFields?: Record<string, string>;
}

const storage = new AsyncLocalStorage<RequestStore>();

/** The id of the request being handled, wherever in its async call chain you are. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

type LogFieldsHook = () => Record<string, string> | undefined;
let logFieldsHook: LogFieldsHook | undefined;

/** Lets a feature add fields to every log line of a request, computed once as it starts. */
export function setRequestLogFields(hook: LogFieldsHook | undefined): void {
  logFieldsHook = hook;
}

/** The fields a feature added for the request being handled (none without such a feature). */
export function currentLogFields(): Record<string, string> | undefined {
  return storage.getStore()?.logFields;
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
    storage.run({ requestId: id, logFields: logFieldsHook?.() }, next);
  };
}
