import { ConfigError, readInt, type Config } from '../../config.js';

export interface PostgresSettings {
  /** The primary (writes, transactions, read-your-writes). Unset in development/test: PGlite. */
  primaryUrl: string | undefined;
  /** In-process PGlite instead of a server: `memory` or a data directory. */
  pglite: string | undefined;
  replicaUrls: string[];
  /** Connections per pool, per process: one pool for the primary and one per replica. */
  poolMax: number;
  statementTimeoutMs: number;
  /** A replica further behind than this leaves the read rotation until it catches up. */
  maxReplicaLagMs: number;
  /** How long a client that wrote reads from the primary (cookie), see readYourWritesMs(). */
  readYourWritesMs: number;
}

/** Lag checks on each replica run this often. */
export const LAG_CHECK_INTERVAL_MS = 1000;

function readPostgresUrl(name: string, raw: string): string {
  if (!URL.canParse(raw) || !/^postgres(ql)?:$/.test(new URL(raw).protocol)) {
    throw new ConfigError(`${name} must be a postgres:// URL, got "${raw}"`);
  }
  return raw;
}

/**
 * DATABASE_URL is required in production. `DATABASE_URL=pglite:memory` (or `pglite:<dir>`)
 * asks for the embedded database explicitly, in any environment: one database per process.
 */
export function readPostgresSettings(env: NodeJS.ProcessEnv, config: Config): PostgresSettings {
  const url = env.DATABASE_URL?.trim();
  let primaryUrl: string | undefined;
  let pglite: string | undefined;
  if (url?.startsWith('pglite:')) pglite = url.slice('pglite:'.length) || 'memory';
  else if (url) primaryUrl = readPostgresUrl('DATABASE_URL', url);
  else if (config.nodeEnv === 'production') {
    throw new ConfigError('DATABASE_URL is required in production (postgres://user:pass@host/db)');
  } else pglite = 'memory';
  const replicaUrls = (env.DATABASE_REPLICA_URLS ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => readPostgresUrl('DATABASE_REPLICA_URLS', part));
  if (replicaUrls.length > 0 && !primaryUrl) {
    throw new ConfigError('DATABASE_REPLICA_URLS needs DATABASE_URL (the primary) as well');
  }
  const maxReplicaLagMs = readInt(env, 'DATABASE_MAX_REPLICA_LAG_MS', 5000, 100, 3_600_000);
  return {
    primaryUrl,
    pglite,
    replicaUrls,
    poolMax: readInt(env, 'DATABASE_POOL_MAX', 10, 1, 1000),
    statementTimeoutMs: readInt(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5000, 1, 3_600_000),
    maxReplicaLagMs,
    // A replica in rotation had replayed everything older than maxReplicaLagMs at its last lag
    // check, at most one interval ago; one more interval covers clock drift between instances.
    readYourWritesMs: maxReplicaLagMs + 2 * LAG_CHECK_INTERVAL_MS,
  };
}
