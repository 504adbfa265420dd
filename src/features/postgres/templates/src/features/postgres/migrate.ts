import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { ConfigError, loadConfig } from '../../config.js';
import { MIGRATIONS_FOLDER } from './connect.js';
import { readPostgresSettings } from './settings.js';

/** Any fixed number: every instance of this app takes the same advisory lock. */
const MIGRATION_LOCK = 72_700_001;

/**
 * Applies the pending migrations of MIGRATIONS_FOLDER to the database at `url`. Holds a session
 * advisory lock meanwhile, so that several copies started at once (one per instance of a deploy)
 * apply each migration exactly once: the others wait, then find nothing left to do.
 */
export async function migrateDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    // drizzle's migrator runs its transaction on this same session, under the lock.
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  } finally {
    // Ending the session releases the lock too, even after an error.
    await client.end();
  }
}

/** `npm run db:migrate` (node dist/features/postgres/migrate.js): once per deploy, not per boot. */
async function main(): Promise<void> {
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
  }
  try {
    const settings = readPostgresSettings(process.env, loadConfig());
    if (!settings.primaryUrl) {
      throw new ConfigError(
        'db:migrate needs DATABASE_URL (postgres://...); the embedded PGlite migrates itself at start',
      );
    }
    await migrateDatabase(settings.primaryUrl);
    console.log('migrations applied');
  } catch (error) {
    const prefix = error instanceof ConfigError ? 'Invalid configuration' : 'Migration failed';
    console.error(`${prefix}: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
