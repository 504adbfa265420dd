import type { Request, Response } from 'express';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { LogLevel } from '../config.js';
import type { Feature } from '../feature.js';
import {
  isSecretHeader,
  REDACTED,
  redactUrl,
  SECRET_HEADERS,
  type LogFields,
  type Logger,
} from '../logger.js';
import { currentLogFields, currentRequestId } from '../request-context.js';

type AppPino = PinoLogger<'http'>;

/**
 * The secret headers (SECRET_HEADERS in src/logger.ts, shared with every logger) in the fields an
 * app log line may carry: pino replaces their values while serializing. Request lines are
 * redacted by their serializer below.
 */
export const REDACT_PATHS = SECRET_HEADERS.flatMap((name) => {
  const lower = name.toLowerCase();
  const capitalized = lower.replace(
    /(^|-)([a-z])/g,
    (_, dash: string, c: string) => dash + c.toUpperCase(),
  );
  return [...new Set([lower, capitalized])].flatMap((key) => [`["${key}"]`, `headers["${key}"]`]);
});

/** What a request line shows of the request: no query object, secrets replaced. */
interface SerializedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  remoteAddress?: string;
  remotePort?: number;
}

function requestSerializer(req: SerializedRequest): SerializedRequest {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    headers[name] = isSecretHeader(name) ? REDACTED : value;
  }
  return {
    id: req.id,
    method: req.method,
    url: req.url === undefined ? undefined : redactUrl(req.url),
    headers,
    remoteAddress: req.remoteAddress,
    remotePort: req.remotePort,
  };
}

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
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      mixin() {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { requestId, ...currentLogFields() };
      },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** The pino instance behind each app logger made by asAppLogger. */
const pinoBehind = new WeakMap<Logger, AppPino>();

/** Wraps pino in the app's Logger interface: (message, fields) instead of pino's (fields, message). */
export function asAppLogger(logger: AppPino): Logger {
  const appLogger: Logger = {
    error: (message: string, fields?: LogFields) => logger.error(fields ?? {}, message),
    warn: (message: string, fields?: LogFields) => logger.warn(fields ?? {}, message),
    info: (message: string, fields?: LogFields) => logger.info(fields ?? {}, message),
    http: (message: string, fields?: LogFields) => logger.http(fields ?? {}, message),
    debug: (message: string, fields?: LogFields) => logger.debug(fields ?? {}, message),
  };
  pinoBehind.set(appLogger, logger);
  return appLogger;
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
    serializers: {
      req: requestSerializer,
      // The status is enough of the response: its headers are the app's own (helmet's), every time.
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
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

let root: AppPino | undefined;

const feature: Feature = {
  name: 'pino',
  createLogger(config) {
    return asAppLogger(createPino(config.logLevel));
  },
  setup(app, ctx) {
    // Requests are logged by the app's own pino logger (a test may give one writing elsewhere).
    root = pinoBehind.get(ctx.logger) ?? createPino(ctx.config.logLevel);
    app.use(requestLogger(root));
  },
  shutdown() {
    root?.flush();
  },
};

export default feature;
