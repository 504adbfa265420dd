import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { CircuitBreaker } from '../../breaker.js';
import type { Logger } from '../../logger.js';
import { serializeError } from '../../logger.js';
import { DatabaseUnavailableError, type Db, type Target } from './database.js';

/** Consecutive connection failures or timeouts that open a server's breaker. */
const FAILURES_TO_OPEN = 3;
const PROBE_INTERVAL_MS = 500;

/** The database answered (a constraint, a syntax error): the server is fine, the query is not. */
function isQueryError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return false;
  // 08: connection, 53: resources, 57P: shutting down or starting, 57014: statement timeout.
  return !/^(08|53|57P)/.test(code) && code !== '57014';
}

export interface ServerOptions {
  url: string;
  role: 'primary' | 'replica';
  poolMax: number;
  statementTimeoutMs: number;
}

/** One PostgreSQL server: a pg Pool behind a circuit breaker. */
export class DatabaseServer implements Target {
  readonly pool: pg.Pool;
  readonly db: Db;
  readonly breaker: CircuitBreaker;
  readonly role: string;
  readonly name: string;

  constructor(options: ServerOptions, logger: Logger) {
    this.role = options.role;
    const host = new URL(options.url).host;
    this.name = options.role === 'primary' ? 'primary' : host;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax,
      statement_timeout: options.statementTimeoutMs,
      connectionTimeoutMillis: 2000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its server emits here; without a listener the process would crash.
    this.pool.on('error', (error) => {
      logger.debug('idle database connection lost', { host, error: serializeError(error) });
    });
    this.db = drizzle(this.pool);
    this.breaker = new CircuitBreaker({
      failureThreshold: FAILURES_TO_OPEN,
      // The statement timeout ends a slow query on the server; this also bounds a hung socket.
      timeoutMs: options.statementTimeoutMs + 2000,
      probeIntervalMs: PROBE_INTERVAL_MS,
      probe: () => this.pool.query('select 1'),
      onStateChange: (state, error) => {
        if (state === 'open') {
          logger.warn(`database ${options.role} not answering: circuit open`, {
            host,
            error: serializeError(error),
          });
        } else logger.info(`database ${options.role} answers again: circuit closed`, { host });
      },
    });
  }

  /**
   * Runs `work` through the breaker. A query error (the server answered) is rethrown as is and
   * does not count against the server; an unreachable server throws DatabaseUnavailableError,
   * at once while the breaker is open.
   */
  async run<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const outcome = await this.breaker.run<{ value: T } | { error: unknown }>(
      async () => {
        try {
          return { value: await work(this.db) };
        } catch (error) {
          if (isQueryError(error)) return { error };
          throw error;
        }
      },
      (error) => {
        throw new DatabaseUnavailableError(this.role, error);
      },
    );
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  async ping(): Promise<void> {
    await this.run(() => this.pool.query('select 1'));
  }

  async close(): Promise<void> {
    this.breaker.stop();
    await this.pool.end();
  }
}
