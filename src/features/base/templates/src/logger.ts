import { currentRequestId } from './request-context.js';
import { logLevels, type LogLevel } from './config.js';

export type LogFields = Record<string, unknown>;

/** The logger every part of the app uses; a logging feature may provide its own. */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  http(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

/** Error objects do not survive JSON.stringify: keep what helps debugging. */
export function serializeError(error: unknown): LogFields {
  if (error instanceof Error)
    return { type: error.name, message: error.message, stack: error.stack };
  return { message: String(error) };
}

/** A small JSON-lines logger on stdout, used when no logging feature is installed. */
export function createConsoleLogger(level: LogLevel): Logger {
  const threshold = logLevels.indexOf(level);
  const write =
    (name: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (logLevels.indexOf(name) > threshold) return;
      const requestId = currentRequestId();
      const line = {
        level: name,
        time: new Date().toISOString(),
        message,
        ...(requestId && { requestId }),
        ...fields,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    http: write('http'),
    debug: write('debug'),
  };
}
