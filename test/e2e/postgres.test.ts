import { execa } from 'execa';
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type Running } from '../helpers/processes.js';
import { freePort } from '../helpers/ports.js';
import {
  hasPostgres,
  psql,
  runPgScript,
  startPrimaryAndReplica,
  stopServer,
  type PgServer,
} from '../helpers/postgres.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The postgres feature end to end: a project generated with the real CLI and its full test-build
 * (its own tests run on PGlite), then the built app against Debian's PostgreSQL 15, a primary and
 * a streaming replica made with pg_basebackup -R, on loopback ports. The project also has
 * metrics (the database's gauges) and docker (its compose scripts, run here outside Docker).
 */

const METRICS_TOKEN = 'e2e-postgres-metrics-token';

interface Item {
  id: number;
  name: string;
}

/** Polls until `check` passes or the deadline passes (then fails with the last value). */
async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last = await read();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    last = await read();
  }
  return last;
}

/** Scans of the items table a server has counted (its own statistics: replicas keep theirs). */
async function itemScans(server: PgServer): Promise<number> {
  const sql = `select coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) from pg_stat_user_tables where relname = 'items'`;
  return Number(await psql(server, sql));
}

describe.skipIf(!hasPostgres())('postgres feature (real PostgreSQL 15, primary + replica)', () => {
  let dir: string;
  let servers: Awaited<ReturnType<typeof startPrimaryAndReplica>> | undefined;
  let starting: ReturnType<typeof startPrimaryAndReplica> | undefined;
  let app: Running | undefined;
  const primary = () => servers!.primary;
  const replica = () => servers!.replica;

  const post = (name: string, cookie?: string) =>
    fetch(`${app!.url}/api/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ name }),
    });
  const getItem = (id: number, cookie?: string) =>
    fetch(`${app!.url}/api/items/${id}`, { headers: cookie ? { cookie } : {} });

  beforeAll(async () => {
    starting = startPrimaryAndReplica();
    const [project, started] = await Promise.all([
      generateBuilt(tempDir(), 'pg-app', ['--features', 'postgres,metrics,docker']),
      starting,
    ]);
    servers = started;
    dir = project.dir;
    expect(project.result.features).toEqual(['postgres', 'metrics', 'docker']);
  }, 900_000);

  afterAll(async () => {
    await app?.stop('SIGKILL').catch(() => undefined);
    // Also when the project failed to generate: the servers started meanwhile are stopped.
    await (await starting?.catch(() => undefined))?.destroy();
  });

  it('three migrate processes at once on an empty database apply the migration once', async () => {
    const env = { DATABASE_URL: primary().url, NODE_ENV: 'production', PATH: process.env.PATH! };
    const runs = await Promise.all(
      [1, 2, 3].map(() =>
        execa(process.execPath, ['dist/features/postgres/migrate.js'], {
          cwd: dir,
          env,
          extendEnv: false,
          all: true,
          reject: false,
        }),
      ),
    );
    for (const run of runs) expect(run.exitCode, run.all).toBe(0);
    expect(await psql(primary(), 'select count(*) from drizzle.__drizzle_migrations')).toBe('1');
    expect(await psql(primary(), "select to_regclass('items') is not null")).toBe('t');
    // The replica gets the schema by streaming replication, not by migrating.
    await eventually(
      () => psql(replica(), "select to_regclass('items') is not null"),
      (v) => v === 't',
    );
  }, 120_000);

  it("compose's scripts, outside Docker: the primary's replication role, then a replica cloned and streaming", async () => {
    const env = {
      POSTGRES_USER: 'postgres',
      POSTGRES_DB: 'postgres',
      POSTGRES_REPLICATION_PASSWORD: 'replication-secret',
      PGDATA: primary().dataDir,
      PGHOST: '127.0.0.1',
      PGPORT: String(primary().port),
    };
    // The servers' folder belongs to the postgres user: the scripts and the new data go there.
    const root = dirname(primary().dataDir);
    const copied = (name: string): string => {
      copyFileSync(join(dir, 'docker/postgres', name), join(root, name));
      return join(root, name);
    };
    const init = await runPgScript(copied('primary-init.sh'), [], env);
    expect(init.exitCode, init.all).toBe(0);
    await psql(primary(), 'select pg_reload_conf()');
    expect(
      await psql(primary(), "select rolreplication from pg_roles where rolname = 'replicator'"),
    ).toBe('t');

    const script = copied('replica-entrypoint.sh');
    const port = await freePort();
    const dataDir = join(root, 'compose-replica');
    const copy: PgServer = {
      ...primary(),
      port,
      dataDir,
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    };
    const running = runPgScript(
      script,
      ['-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      {
        PGDATA: dataDir,
        PRIMARY_HOST: '127.0.0.1',
        PRIMARY_PORT: String(primary().port),
        REPLICATION_USER: 'replicator',
        REPLICATION_PASSWORD: 'replication-secret',
      },
    );
    try {
      await eventually(
        () => psql(copy, 'select pg_is_in_recovery()').catch(() => 'not yet'),
        (v) => v === 't',
        60_000,
      );
      await psql(primary(), 'create table compose_check as select 42 as answer');
      await eventually(
        () => psql(copy, 'select answer from compose_check').catch(() => 'not yet'),
        (v) => v === '42',
      );
    } finally {
      await stopServer(dataDir).catch(() => undefined);
    }
    const result = await running;
    expect(result.all).toContain('copying the primary');
  }, 120_000);

  /** One sample of the app's /metrics (undefined: not there). */
  const metric = async (sample: string): Promise<number | undefined> => {
    const res = await fetch(`${app!.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    const line = (await res.text()).split('\n').find((l) => l.startsWith(`${sample} `));
    return line === undefined ? undefined : Number(line.slice(sample.length + 1));
  };

  it('writes land on the primary and reads on the replica', async () => {
    expect(await psql(primary(), 'select pg_is_in_recovery()')).toBe('f');
    expect(await psql(replica(), 'select pg_is_in_recovery()')).toBe('t');
    app = await startApp(dir, {
      DATABASE_URL: primary().url,
      DATABASE_REPLICA_URLS: replica().url,
      // Large, so that a paused replica stays in the rotation (the read-your-writes test).
      DATABASE_MAX_REPLICA_LAG_MS: '60000',
      METRICS_TOKEN,
    });
    const ready = await eventually(
      async () => (await fetch(`${app!.url}/readyz`)).json() as Promise<{ status: string }>,
      (body) => body.status === 'ok',
    );
    expect(ready).toEqual({ status: 'ok', checks: { postgres: 'ok' } });
    const created = await post('on the primary');
    expect(created.status).toBe(201);
    const item = (await created.json()) as Item;
    await eventually(
      () => getItem(item.id).then((r) => r.status),
      (s) => s === 200,
    );
    const before = { primary: await itemScans(primary()), replica: await itemScans(replica()) };
    for (let i = 0; i < 20; i++) expect((await getItem(item.id)).status).toBe(200);
    // Statistics are flushed about once a second: wait for the replica's, then compare.
    await eventually(
      () => itemScans(replica()),
      (n) => n >= before.replica + 20,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await itemScans(primary())).toBe(before.primary);
    // Both pools are open and on /metrics; the queries were timed per pool.
    expect(await metric('db_pool_connections{pool="primary",state="total"}')).toBeGreaterThan(0);
    const replicaPool = `pool="127.0.0.1:${replica().port}"`;
    expect(await metric(`db_query_duration_seconds_count{${replicaPool}}`)).toBeGreaterThanOrEqual(
      20,
    );
    expect(await metric(`db_breaker_open{${replicaPool}}`)).toBe(0);
  }, 120_000);

  it('read-your-writes: with replay paused on the replica, the writer reads its new item', async () => {
    await psql(replica(), 'select pg_wal_replay_pause()');
    try {
      const created = await post('while the replica is paused');
      expect(created.status).toBe(201);
      const cookie = created.headers.get('set-cookie')?.split(';')[0];
      expect(cookie).toMatch(/^db-primary-until=\d+$/);
      const item = (await created.json()) as Item;
      // The same client (its cookie): from the primary.
      const mine = await getItem(item.id, cookie);
      expect(mine.status).toBe(200);
      expect(((await mine.json()) as Item).name).toBe('while the replica is paused');
      // Another client reads the replica, which has not replayed the insert: stale.
      expect((await getItem(item.id)).status).toBe(404);
      // The lag gauge shows it (checked every second).
      const lag = await eventually(
        () => metric(`db_replica_lag_seconds{replica="127.0.0.1:${replica().port}"}`),
        (v) => v !== undefined && v > 0,
      );
      expect(lag).toBeGreaterThan(0);
      await psql(replica(), 'select pg_wal_replay_resume()');
      await eventually(
        () => getItem(item.id).then((r) => r.status),
        (s) => s === 200,
      );
    } finally {
      await psql(replica(), 'select pg_wal_replay_resume()');
    }
  }, 120_000);

  it('primary stopped: writes fail fast with 503 and Retry-After, reads keep working; primary back: writes succeed', async () => {
    const existing = (await (await post('before the outage')).json()) as Item;
    await eventually(
      () => getItem(existing.id).then((r) => r.status),
      (s) => s === 200,
    );
    await primary().stop();
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const res = await post('during the outage');
      latencies.push(Math.round(performance.now() - started));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
    }
    console.log(`writes with the primary stopped answered 503 in ${latencies.join(', ')} ms`);
    // Generous on a loaded machine; the point is far below a 30 s connect timeout.
    expect(Math.max(...latencies)).toBeLessThan(10_000);
    expect((await getItem(existing.id)).status).toBe(200);
    const readyz = await fetch(`${app!.url}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toMatchObject({ checks: { postgres: 'down' } });

    await primary().start();
    await eventually(
      () => post('after the outage').then((r) => r.status),
      (s) => s === 201,
    );
  }, 120_000);

  it('replica stopped under read load: no failed request; replica back: it rejoins the rotation', async () => {
    const item = (await (await post('read under load')).json()) as Item;
    await eventually(
      () => getItem(item.id).then((r) => r.status),
      (s) => s === 200,
    );
    const statuses = new Map<number, number>();
    let done = false;
    const loop = async () => {
      while (!done) {
        const status = await getItem(item.id).then(
          (r) => r.status,
          () => 0,
        );
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    const load = Promise.all([loop(), loop(), loop(), loop()]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await replica().stop();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    done = true;
    await load;
    console.log('reads while the replica stopped, by status:', Object.fromEntries(statuses));
    expect([...statuses.keys()]).toEqual([200]);
    const degraded = await fetch(`${app!.url}/readyz`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({ checks: { postgres: 'degraded' } });

    await replica().start();
    await eventually(
      async () => (await fetch(`${app!.url}/readyz`)).json() as Promise<{ status: string }>,
      (body) => body.status === 'ok',
    );
    const before = await itemScans(replica());
    for (let i = 0; i < 10; i++) expect((await getItem(item.id)).status).toBe(200);
    await eventually(
      () => itemScans(replica()),
      (n) => n >= before + 10,
    );
  }, 120_000);
});
