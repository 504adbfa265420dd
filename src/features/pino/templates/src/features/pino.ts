import type { Request, Response } from 'express';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Config, LogLevel } from '../config.js';
import type { Feature } from '../feature.js';
import type { LogFields, Logger } from '../logger.js';
import { currentRequestId } from '../request-context.js';

type AppPino = PinoLogger<'http'>;

/** Authorization and Cookie values never reach a log line: pino replaces them while serializing. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers.cookie',
  'authorization',
  'cookie',
];

/**
 * A pino logger with the app's five levels (`http`, between info and debug, is a custom level),
 * string level names, ISO timestamps, error stacks, redaction, and the current request's id on
 * every line written while a request is handled (a mixin reading AsyncLocalStorage).
 */
export function createPino(level: LogLevel, destination?: DestinationStream): AppPino {
  return pino<'http'>(
    {
      level,
      customLevels: { http: 25 },
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // No pid/hostname on every line: the platform adds them, and the base logs its pid once.
      base: undefined,
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin() {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { requestId };
      },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** Wraps pino in the app's Logger interface: (message, fields) instead of pino's (fields, message). */
export function asAppLogger(logger: AppPino): Logger {
  return {
    error: (message: string, fields?: LogFields) => logger.error(fields ?? {}, message),
    warn: (message: string, fields?: LogFields) => logger.warn(fields ?? {}, message),
    info: (message: string, fields?: LogFields) => logger.info(fields ?? {}, message),
    http: (message: string, fields?: LogFields) => logger.http(fields ?? {}, message),
    debug: (message: string, fields?: LogFields) => logger.debug(fields ?? {}, message),
  };
}

/** The route pattern (never the raw URL, which may carry ids or tokens), once one matched. */
function routeOf(req: Request): string | undefined {
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}

/**
 * pino-http: one object per finished request at the `http` level (`error` for 5xx), with the id
 * the app already chose (the incoming X-Request-Id or a new one, see src/request-context.ts).
 */
export function requestLogger(logger: AppPino) {
  const requestIdOf = (res: Response): string =>
    (res.locals.requestId as string | undefined) ?? String(res.getHeader('x-request-id'));
  return pinoHttp<Request, Response, 'http'>({
    logger,
    customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
    // The status is enough of the response: its headers are the app's own (helmet's), every time.
    serializers: { res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }) },
    genReqId: (_req, res) => requestIdOf(res),
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'http'),
    customSuccessMessage: () => 'request finished',
    customErrorMessage: () => 'request failed',
    customSuccessObject: (req, res, fields: object) => ({
      ...fields,
      requestId: requestIdOf(res),
      route: routeOf(req),
    }),
    customErrorObject: (req, res, _error, fields: object) => ({
      ...fields,
      requestId: requestIdOf(res),
      route: routeOf(req),
    }),
  });
}

/** One root logger per configuration: createLogger and setup share it. */
const roots = new WeakMap<Config, AppPino>();

function rootFor(config: Config): AppPino {
  let root = roots.get(config);
  if (!root) {
    root = createPino(config.logLevel);
    roots.set(config, root);
  }
  return root;
}

let lastRoot: AppPino | undefined;

const feature: Feature = {
  name: 'pino',
  createLogger(config) {
    lastRoot = rootFor(config);
    return asAppLogger(lastRoot);
  },
  setup(app, ctx) {
    app.use(requestLogger(rootFor(ctx.config)));
  },
  shutdown() {
    lastRoot?.flush();
  },
};

export default feature;
