// GET /api/items/:id of the postgres feature on a real streaming replica (Debian's PostgreSQL,
// primary + pg_basebackup -R copy on loopback ports), without and with the Redis cache (a
// project made with redis: get-by-id goes through ctx.services.cache). Called by run.mjs, which
// passes its helpers so that the numbers come from the same run as the bare Express baseline.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const isRoot = process.getuid?.() === 0;

/** The newest Debian PostgreSQL's binaries, or undefined. */
function pgBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb')));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest && join(base, newest, 'bin');
}

/** Runs a PostgreSQL tool (as the postgres user under root: initdb refuses root). */
function pg(bin, tool, argv) {
  const [command, full] = isRoot
    ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...argv]]
    : [join(bin, tool), argv];
  const result = spawnSync(command, full, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr}`);
  return result.stdout.trim();
}

export async function postgresItems({ generate, measure, freePort }) {
  const bin = pgBin();
  const redisOk = spawnSync('redis-server', ['--version']).status === 0;
  if (!bin || !redisOk) {
    console.log('\n  GET /api/items/:id skipped: PostgreSQL (Debian) or redis-server is missing');
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'cse-bench-pg-'));
  if (isRoot) spawnSync('chown', ['postgres:postgres', root]);
  const [p1, p2, redisPort] = [await freePort(), await freePort(), await freePort()];
  const options = (port) => `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const stops = [];
  try {
    pg(bin, 'initdb', ['-D', `${root}/primary`, '-U', 'postgres', '--auth=trust', '--no-sync']);
    pg(bin, 'pg_ctl', [
      '-D',
      `${root}/primary`,
      '-o',
      options(p1),
      '-l',
      `${root}/p.log`,
      '-w',
      'start',
    ]);
    stops.push(() => pg(bin, 'pg_ctl', ['-D', `${root}/primary`, '-m', 'fast', '-w', 'stop']));
    pg(bin, 'pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(p1),
      '-U',
      'postgres',
      '-D',
      `${root}/replica`,
      '-R',
      '-X',
      'stream',
    ]);
    pg(bin, 'pg_ctl', [
      '-D',
      `${root}/replica`,
      '-o',
      options(p2),
      '-l',
      `${root}/r.log`,
      '-w',
      'start',
    ]);
    stops.push(() => pg(bin, 'pg_ctl', ['-D', `${root}/replica`, '-m', 'fast', '-w', 'stop']));
    const redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    stops.push(() => redis.kill('SIGTERM'));

    const url = (port) => `postgres://postgres@127.0.0.1:${port}/postgres`;
    const plain = generate('tp-postgres', ['--features', 'postgres']);
    const cached = generate('tp-postgres-redis', ['--features', 'postgres,redis']);
    const migrate = spawnSync(process.execPath, ['dist/features/postgres/migrate.js'], {
      cwd: plain,
      env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: url(p1) },
    });
    if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);
    const id = pg(bin, 'psql', [
      url(p1),
      '-XAtc',
      "insert into items (name) values ('bench') returning id",
    ]).split('\n')[0];
    // The row must be on the replica before reads start (no 404s measured).
    for (let i = 0; i < 100; i++) {
      if (
        pg(bin, 'psql', [url(p2), '-XAtc', `select count(*) from items where id = ${id}`]) === '1'
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const env = { DATABASE_URL: url(p1), DATABASE_REPLICA_URLS: url(p2) };
    const path = `/api/items/${id}`;
    console.log(`\n  GET /api/items/:id on a PostgreSQL replica (one worker, same run):`);
    const line = (label, { rps, p99 }) =>
      console.log(
        `  ${label.padEnd(34)} ${Math.round(rps).toString().padStart(7)} req/s   p99 ${p99} ms`,
      );
    line('postgres, no cache', await measure(plain, env, path));
    line(
      'postgres + redis cache',
      await measure(cached, { ...env, REDIS_URL: `redis://127.0.0.1:${redisPort}` }, path),
    );
  } finally {
    for (const stop of stops.reverse()) {
      try {
        stop();
      } catch {
        // Best effort: the folder goes anyway.
      }
    }
    rmSync(root, { recursive: true, force: true });
  }
}
