import { currentLogFields, currentRequestId } from './request-context.js';
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

export const REDACTED = '[redacted]';

/** Headers (lower case) whose values never reach a log line, whichever logger writes it. */
export const SECRET_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
];

/** Query parameters whose values never reach a log line (`?token=…`, `?password=…`). */
const SECRET_PARAMS =
  /^(?:token|access_token|refresh_token|id_token|password|passwd|pwd|secret|client_secret|api_?key|key|signature|sig|code)$/i;

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.includes(name.toLowerCase());
}

/** The URL with the values of secret query parameters replaced. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  const params = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // Not valid percent-encoding: judge the name as written.
      }
      return eq !== -1 && SECRET_PARAMS.test(decoded) ? `${name}=${REDACTED}` : pair;
    });
  return `${url.slice(0, query)}?${params.join('&')}`;
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
        ...currentLogFields(),
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
