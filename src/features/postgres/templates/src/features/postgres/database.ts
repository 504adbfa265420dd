import type { Request, Response } from 'express';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { HttpError } from '../../errors.js';
import type { CheckStatus } from '../../feature.js';
import type { Replica } from './replicas.js';

/** A Drizzle database: the same query API on node-postgres and on PGlite. */
export type Db = PgDatabase<PgQueryResultHKT>;

/** Where a query can run: a server behind its breaker, or the embedded PGlite. */
export interface Target {
  /** In metrics: `primary`, a replica's host:port, or `embedded` (PGlite). */
  readonly name: string;
  run<T>(work: (db: Db) => Promise<T>): Promise<T>;
  /** Resolves when the server answers (through its breaker: at once when open). */
  ping(): Promise<void>;
}

/** Clients retry a refused write after this many seconds (Retry-After). */
export const RETRY_AFTER_SECONDS = 2;

/** 503 with Retry-After: the errorHandler copies `headers` (the http-errors convention). */
export class DatabaseUnavailableError extends HttpError {
  readonly headers = { 'Retry-After': String(RETRY_AFTER_SECONDS) };
  constructor(role: string, cause?: unknown) {
    super(503, `database ${role} unavailable, retry later`);
    this.cause = cause;
  }
}

/** Set on a response after a write: the client reads from the primary until this time. */
export const PRIMARY_COOKIE = 'db-primary-until';

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/**
 * Routes queries: writes and transactions to the primary; reads to a healthy replica (round
 * robin), or to the primary when none is healthy, when this request wrote, or when this client
 * wrote within the last `readYourWritesMs` (the PRIMARY_COOKIE it got back).
 */
export class Database {
  #next = 0;
  /** Told each query's duration and where it ran (the metrics feature's histogram). */
  onQuery: ((target: string, seconds: number) => void) | undefined;

  constructor(
    readonly primary: Target,
    readonly replicas: readonly Replica[],
    private readonly readYourWritesMs: number,
  ) {}

  /** Runs a read; pass the response so that read-your-writes applies. */
  async read<T>(res: Response, work: (db: Db) => Promise<T>): Promise<T> {
    const replica = this.readsPrimary(res) ? undefined : this.#pickReplica();
    if (!replica) return this.#run(this.primary, work);
    try {
      return await this.#run(replica.server, work);
    } catch (error) {
      // The replica went away: the primary answers instead.
      if (error instanceof DatabaseUnavailableError) return this.#run(this.primary, work);
      throw error;
    }
  }

  /** Runs a write on the primary; this request and this client then read from the primary. */
  async write<T>(res: Response, work: (db: Db) => Promise<T>): Promise<T> {
    const result = await this.#run(this.primary, work);
    res.locals.databaseWrote = true;
    if (!res.headersSent) {
      res.cookie(PRIMARY_COOKIE, String(Date.now() + this.readYourWritesMs), {
        maxAge: this.readYourWritesMs,
        httpOnly: true,
        sameSite: 'lax',
        path: '/',
      });
    }
    return result;
  }

  /** Runs `work` in one transaction on the primary. */
  transaction<T>(res: Response, work: (tx: Db) => Promise<T>): Promise<T> {
    return this.write(res, (db) => db.transaction((tx) => work(tx)));
  }

  /** down: the primary does not answer; degraded: a replica is out of the rotation. */
  async readiness(): Promise<CheckStatus> {
    try {
      await this.primary.ping();
    } catch {
      return 'down';
    }
    return this.replicas.every((r) => r.healthy) ? 'ok' : 'degraded';
  }

  async #run<T>(target: Target, work: (db: Db) => Promise<T>): Promise<T> {
    const observe = this.onQuery;
    if (!observe) return target.run(work);
    const started = performance.now();
    try {
      return await target.run(work);
    } finally {
      observe(target.name, (performance.now() - started) / 1000);
    }
  }

  /** Whether this request's reads go to the primary (it wrote, or its client wrote just now). */
  readsPrimary(res: Response): boolean {
    if (res.locals.databaseWrote === true) return true;
    const until = Number(cookie(res.req, PRIMARY_COOKIE));
    return Number.isFinite(until) && until > Date.now();
  }

  #pickReplica(): Replica | undefined {
    const healthy = this.replicas.filter((r) => r.healthy);
    if (healthy.length === 0) return undefined;
    this.#next = (this.#next + 1) % healthy.length;
    return healthy[this.#next];
  }
}
