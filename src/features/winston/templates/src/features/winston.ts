import type { Request, RequestHandler } from 'express';
import winston from 'winston';
import { logLevels, readEnum, type Config } from '../config.js';
import type { Feature } from '../feature.js';
import {
  isSecretHeader,
  REDACTED,
  serializeError,
  type LogFields,
  type Logger,
} from '../logger.js';
import { currentLogFields, currentRequestId } from '../request-context.js';

function scrub(value: unknown, depth: number): unknown {
  if (value instanceof Error) return serializeError(value);
  if (depth > 3 || value === null || typeof value !== 'object' || Array.isArray(value)) {
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = isSecretHeader(key) ? REDACTED : scrub(inner, depth + 1);
  }
  return out;
}

/**
 * Adds the current request's id (from AsyncLocalStorage) to every line, turns Error values into
 * { type, message, stack } and replaces the values of secret headers (SECRET_HEADERS in
 * src/logger.ts: Authorization, Cookie, X-Api-Key…) wherever they appear in the fields.
 */
const requestContext = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const value = info[key];
    if (isSecretHeader(key)) info[key] = REDACTED;
    else if (value !== null && typeof value === 'object') info[key] = scrub(value, 1);
  }
  const requestId = currentRequestId();
  if (requestId !== undefined && info.requestId === undefined) info.requestId = requestId;
  for (const [key, value] of Object.entries(currentLogFields() ?? {})) info[key] ??= value;
  return info;
});

function readableLine(info: winston.Logform.TransformableInfo): string {
  const { level, message, timestamp, stack, ...fields } = info;
  const rest = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  const trace = typeof stack === 'string' ? `\n${stack}` : '';
  return `${String(timestamp)} ${level} ${String(message)}${rest}${trace}`;
}

export interface WinstonSettings {
  format: 'json' | 'pretty';
}

/** LOG_FORMAT: json or pretty; unset, pretty in development and JSON everywhere else. */
export function winstonSettings(env: NodeJS.ProcessEnv, config: Config): WinstonSettings {
  const fallback = config.nodeEnv === 'development' ? 'pretty' : 'json';
  return { format: readEnum(env, 'LOG_FORMAT', ['json', 'pretty'], fallback) };
}

/** JSON with timestamps and error stacks in production; one readable line per entry in development. */
export function createWinstonLogger(config: Config, settings: WinstonSettings): winston.Logger {
  const format =
    settings.format === 'json'
      ? winston.format.combine(
          winston.format.errors({ stack: true }),
          requestContext(),
          winston.format.timestamp(),
          // Keys in the order they were written (level and message first), without sorting cost.
          winston.format.json({ deterministic: false }),
        )
      : winston.format.combine(
          winston.format.errors({ stack: true }),
          requestContext(),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          ...(process.stdout.isTTY ? [winston.format.colorize()] : []),
          winston.format.printf(readableLine),
        );
  return winston.createLogger({
    // winston's npm levels are exactly the app's: error, warn, info, http, verbose, debug, silly.
    level: config.logLevel,
    format,
    transports: [new winston.transports.Console()],
  });
}

/**
 * Wraps a winston logger in the app's Logger interface. A line below the logger's level returns
 * at once: winston itself would run it through the whole format (redaction, timestamp, JSON)
 * before its transport drops it.
 */
export function asAppLogger(logger: winston.Logger): Logger {
  const at =
    (level: keyof Logger) =>
    (message: string, fields?: LogFields): void => {
      if (!logger.isLevelEnabled(level)) return;
      if (fields) logger.log(level, message, fields);
      else logger.log(level, message);
    };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    http: at('http'),
    debug: at('debug'),
  };
}

/** The route pattern (never the raw URL, which may carry ids or tokens), once one matched. */
function routeOf(req: Request): string | undefined {
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}

/**
 * One structured object per finished request, at the `http` level: method, route, status,
 * duration and request id. Nothing is formatted into a string and parsed again (as morgan piped
 * into winston would); no header and no query string (which may carry ?token=…) is logged.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let logged = false;
    const done = (): void => {
      if (logged) return;
      logged = true;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.http('request finished', {
        requestId: res.locals.requestId as string | undefined,
        method: req.method,
        route: routeOf(req),
        path: req.originalUrl.split('?', 1)[0],
        status: res.statusCode,
        durationMs: Math.round(durationMs * 100) / 100,
        ...(!res.writableFinished && { aborted: true }),
      });
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}

const feature: Feature<WinstonSettings> = {
  name: 'winston',
  readSettings: winstonSettings,
  createLogger(config, settings) {
    return asAppLogger(createWinstonLogger(config, settings));
  },
  setup(app, ctx) {
    // Request lines are at `http`: below LOG_LEVEL, no request pays for timing and listeners.
    if (logLevels.indexOf(ctx.config.logLevel) >= logLevels.indexOf('http')) {
      app.use(requestLogger(ctx.logger));
    }
  },
};

export default feature;
