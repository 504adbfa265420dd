import type { Feature } from '../types.js';
import { postgresComposeServices } from './compose.js';

export const postgres: Feature = {
  id: 'postgres',
  title: 'PostgreSQL',
  description:
    'pg + Drizzle ORM: reads on healthy replicas, writes on the primary, read-your-writes, a breaker per pool, migrations under an advisory lock; PGlite in-process without DATABASE_URL.',
  dependencies: ['pg', 'drizzle-orm', '@electric-sql/pglite', 'zod'],
  devDependencies: ['drizzle-kit', '@types/pg'],
  // The schema, its first migration and the /api/items example are the user's from the start.
  createOnly: [
    'src/db/schema.ts',
    'src/routes/items.ts',
    'test/items.test.ts',
    'drizzle/0000_items.sql',
    'drizzle/meta/_journal.json',
    'drizzle/meta/0000_snapshot.json',
  ],
  scripts: () => ({
    'db:generate': 'drizzle-kit generate && prettier --write drizzle --log-level warn',
    // Once per deploy (a release step, a Job), after the build; never on every worker's boot.
    'db:migrate': 'node dist/features/postgres/migrate.js',
  }),
  env: (project) => [
    {
      name: 'DATABASE_URL',
      example: 'postgres://app:app@localhost:5432/app',
      comment:
        'The primary (writes, transactions). Required in production; unset in development and tests: PGlite in this process (pglite:memory or pglite:<dir> asks for it anywhere).',
      commented: true,
    },
    {
      name: 'DATABASE_REPLICA_URLS',
      example: 'postgres://app:app@localhost:5433/app',
      comment: 'Read replicas, comma-separated. Unset: reads go to the primary.',
      commented: true,
    },
    {
      name: 'DATABASE_POOL_MAX',
      example: '10',
      comment:
        'Connections per pool per process: POOL_MAX x (1 + replicas) x workers x instances must stay under max_connections.',
    },
    {
      name: 'DATABASE_STATEMENT_TIMEOUT_MS',
      example: '5000',
      comment: 'The server cancels a statement running longer than this.',
    },
    {
      name: 'DATABASE_MAX_REPLICA_LAG_MS',
      example: '5000',
      comment:
        'A replica further behind leaves the read rotation until it catches up; a client that wrote reads from the primary for this long (+2 s).',
    },
    ...(project.has('docker')
      ? [
          {
            name: 'POSTGRES_PASSWORD',
            example: 'replace-with-openssl-rand-hex-32',
            comment:
              "docker-compose.yml: the database user app's password (URL-safe: openssl rand -hex 32). Compose refuses to start without it.",
            commented: true,
          },
          {
            name: 'POSTGRES_REPLICATION_PASSWORD',
            example: 'replace-with-openssl-rand-hex-32',
            comment: "docker-compose.yml: the replica's password for streaming from the primary.",
            commented: true,
          },
        ]
      : []),
  ],
  appModule: true,
  composeServices: postgresComposeServices,
  // Production requires DATABASE_URL: the verify boot runs on the embedded database.
  verifyEnv: () => ({ DATABASE_URL: 'pglite:memory' }),
};
