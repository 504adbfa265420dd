/** Pinned to a patch release (not a moving tag); Debian-based, so its postgres user is 999. */
export const POSTGRES_IMAGE = 'postgres:17.6';
const POSTGRES_USER_ID = '999:999';
const DATA = '/var/lib/postgresql/data';

/**
 * Compose requires both passwords (from the shell or the .env file beside docker-compose.yml)
 * and refuses to start without them. They are part of URLs: use URL-safe characters.
 */
const PASSWORD = '${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (e.g. openssl rand -hex 32)}';
const REPLICATION_PASSWORD =
  '${POSTGRES_REPLICATION_PASSWORD:?set POSTGRES_REPLICATION_PASSWORD (e.g. openssl rand -hex 32)}';
const url = (host: string) => `postgres://app:${PASSWORD}@${host}:5432/app`;

/** Read-only root, no capabilities: run as the image's postgres user, so no chown or gosu. */
const hardened = {
  user: POSTGRES_USER_ID,
  restart: 'unless-stopped',
  read_only: true,
  tmpfs: ['/tmp', '/var/run/postgresql'],
  cap_drop: ['ALL'],
  security_opt: ['no-new-privileges:true'],
  deploy: { resources: { limits: { cpus: '1', memory: '512M' } } },
  healthcheck: {
    test: ['CMD', 'pg_isready', '-U', 'app', '-d', 'app', '-h', '127.0.0.1'],
    interval: '5s',
    timeout: '3s',
    retries: 10,
  },
};

/**
 * PostgreSQL in docker-compose.yml: a primary, a streaming replica cloned from it with
 * pg_basebackup (docker/postgres/replica-entrypoint.sh), and a one-shot `migrate` service from
 * the app's image that the app waits for. No host port: only the Compose network reaches them.
 */
export function postgresComposeServices(): Record<string, unknown> {
  return {
    app: {
      environment: {
        DATABASE_URL: url('postgres'),
        DATABASE_REPLICA_URLS: url('postgres-replica'),
      },
      // The replica may be down: reads then go to the primary. Migrations must have run.
      depends_on: {
        postgres: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      },
    },
    postgres: {
      image: POSTGRES_IMAGE,
      ...hardened,
      environment: {
        POSTGRES_USER: 'app',
        POSTGRES_DB: 'app',
        POSTGRES_PASSWORD: PASSWORD,
        POSTGRES_REPLICATION_PASSWORD: REPLICATION_PASSWORD,
      },
      volumes: [
        `postgres-data:${DATA}`,
        // Run once, on an empty volume: the replication role and its pg_hba.conf line.
        './docker/postgres/primary-init.sh:/docker-entrypoint-initdb.d/10-replication.sh:ro',
      ],
    },
    'postgres-replica': {
      image: POSTGRES_IMAGE,
      ...hardened,
      entrypoint: ['sh', '/usr/local/bin/replica-entrypoint.sh'],
      environment: {
        PGDATA: DATA,
        PRIMARY_HOST: 'postgres',
        REPLICATION_USER: 'replicator',
        REPLICATION_PASSWORD,
      },
      volumes: [
        `postgres-replica-data:${DATA}`,
        './docker/postgres/replica-entrypoint.sh:/usr/local/bin/replica-entrypoint.sh:ro',
      ],
      depends_on: { postgres: { condition: 'service_healthy' } },
    },
    // Once per `docker compose up`, before the app: several copies would be safe too (an
    // advisory lock), but one is enough.
    migrate: {
      build: '.',
      command: ['node', 'dist/features/postgres/migrate.js'],
      init: true,
      restart: 'no',
      environment: { NODE_ENV: 'production', DATABASE_URL: url('postgres') },
      depends_on: { postgres: { condition: 'service_healthy' } },
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      // The image's HEALTHCHECK asks /healthz, which a migration does not serve.
      healthcheck: { disable: true },
    },
  };
}
