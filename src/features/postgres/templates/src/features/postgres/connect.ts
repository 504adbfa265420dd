import { existsSync } from 'node:fs';
import type { Logger } from '../../logger.js';
import { Database, type Db, type Target } from './database.js';
import type { DatabaseServer } from './server.js';
import type { PostgresSettings } from './settings.js';

/** The folder of SQL migrations made by `npm run db:generate` (drizzle.config.ts). */
export const MIGRATIONS_FOLDER = 'drizzle';

/** What setup opened, to close on shutdown. */
export interface Connection {
  database: Database;
  /** The pools (none for PGlite): the primary first, then the replicas'. */
  servers: readonly DatabaseServer[];
  close(): Promise<void>;
}

/**
 * The embedded PostgreSQL (PGlite, WASM, in this process): development and tests without a
 * server. Opened on first use (an app that never queries costs nothing) and empty, so the
 * migrations are applied then, in-process; a real server is migrated once per deploy by
 * `npm run db:migrate` instead.
 */
function connectEmbedded(dataDir: string, logger: Logger): Connection {
  let opening: Promise<{ db: Db; close: () => Promise<void> }> | undefined;
  const open = async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle } = await import('drizzle-orm/pglite');
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    const client = new PGlite(dataDir === 'memory' ? undefined : dataDir);
    const db = drizzle(client);
    if (existsSync(MIGRATIONS_FOLDER)) await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    else logger.warn(`no ${MIGRATIONS_FOLDER}/ folder here: the embedded database has no tables`);
    return { db: db as unknown as Db, close: () => client.close() };
  };
  const primary: Target = {
    name: 'embedded',
    run: async (work) => work((await (opening ??= open())).db),
    // In this process: nothing to reach, and readiness should not pay for opening it.
    ping: () => Promise.resolve(),
  };
  return {
    database: new Database(primary, [], 0),
    servers: [],
    close: async () => {
      if (opening) await (await opening).close();
    },
  };
}

export async function connect(settings: PostgresSettings, logger: Logger): Promise<Connection> {
  if (!settings.primaryUrl) return connectEmbedded(settings.pglite ?? 'memory', logger);
  // Loaded here, not at the top: `--check-config` and PGlite runs never load pg.
  const { DatabaseServer } = await import('./server.js');
  const { Replica } = await import('./replicas.js');
  const options = {
    poolMax: settings.poolMax,
    statementTimeoutMs: settings.statementTimeoutMs,
  };
  const primary = new DatabaseServer(
    { ...options, url: settings.primaryUrl, role: 'primary' },
    logger,
  );
  const replicas = settings.replicaUrls.map(
    (url) =>
      new Replica(
        new DatabaseServer({ ...options, url, role: 'replica' }, logger),
        settings.maxReplicaLagMs,
        logger,
      ),
  );
  // Do not wait for the first lag checks: the app serves while a replica is down at boot
  // (reads go to the primary until a replica proves healthy).
  for (const replica of replicas) void replica.start();
  return {
    database: new Database(primary, replicas, settings.readYourWritesMs),
    servers: [primary, ...replicas.map((r) => r.server)],
    close: async () => {
      for (const replica of replicas) replica.stop();
      await Promise.all([primary, ...replicas.map((r) => r.server)].map((s) => s.close()));
    },
  };
}
