import type { CheckStatus, Feature } from '../feature.js';
import { connect, type Connection } from './postgres/connect.js';
import type { Database } from './postgres/database.js';
import { readPostgresSettings, type PostgresSettings } from './postgres/settings.js';

/**
 * PostgreSQL through Drizzle ORM: `ctx.services.database.read(res, (db) => ...)` runs on a
 * healthy replica, `write` and `transaction` on the primary, each server behind a circuit
 * breaker. Without DATABASE_URL in development and tests: PGlite, in this process. See
 * postgres/database.ts for the routing and read-your-writes.
 */

declare module '../feature.js' {
  interface AppServices {
    database?: Database;
  }
}

/** Connections opened by setup (createApp may run several times in one process: tests). */
const connections = new Set<Connection>();

const postgres: Feature<PostgresSettings> = {
  name: 'postgres',

  readSettings: readPostgresSettings,

  async setup(_app, ctx, settings) {
    if (!settings.primaryUrl && settings.pglite === 'memory' && ctx.config.nodeEnv !== 'test') {
      ctx.logger.info('database: PGlite in memory, in this process (data lost at exit)');
    }
    const connection = await connect(settings, ctx.logger);
    connections.add(connection);
    ctx.services.database = connection.database;
  },

  async readiness(): Promise<CheckStatus> {
    const statuses = await Promise.all([...connections].map((c) => c.database.readiness()));
    if (statuses.includes('down')) return 'down';
    return statuses.includes('degraded') ? 'degraded' : 'ok';
  },

  async shutdown() {
    const open = [...connections];
    connections.clear();
    await Promise.all(open.map((c) => c.close()));
  },
};

export default postgres;
