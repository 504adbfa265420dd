import { execa } from 'execa';
import { chownSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { binaryPath } from './binaries.js';
import { freePort } from './ports.js';

/**
 * The folder of Debian's PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, psql), found
 * through binaryPath so that .ci/run installs the package; under CI=true its absence is an error.
 */
function pgBin(): string | undefined {
  const initdb = binaryPath('initdb');
  // The real folder: a link on PATH (/usr/local/bin/initdb) may have no pg_basebackup beside it.
  return initdb && dirname(realpathSync(initdb));
}

/** Whether PostgreSQL is here (the tests skip without it locally; under CI=true they fail). */
export function hasPostgres(): boolean {
  return pgBin() !== undefined;
}

const isRoot = process.getuid?.() === 0;

/** initdb and postgres refuse to run as root: run them as the postgres user then. */
function pg(tool: string, args: string[]) {
  const file = join(pgBin()!, tool);
  return isRoot
    ? execa('runuser', ['-u', 'postgres', '--', file, ...args], { all: true })
    : execa(file, args, { all: true });
}

export interface PgServer {
  port: number;
  url: string;
  dataDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function server(root: string, dataDir: string, port: number): PgServer {
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`;
  let running = false;
  return {
    port,
    dataDir,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await pg('pg_ctl', ['-D', dataDir, '-o', options, '-l', `${dataDir}.log`, '-w', 'start']);
      running = true;
    },
    async stop() {
      if (!running) return;
      running = false;
      await pg('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    },
  };
}

/** A primary and a streaming replica (pg_basebackup -R) on free loopback ports, in a temp dir. */
export async function startPrimaryAndReplica(): Promise<{
  primary: PgServer;
  replica: PgServer;
  /** Stops both and removes their data. */
  destroy(): Promise<void>;
}> {
  const root = mkdtempSync(join(tmpdir(), 'cse-pg-'));
  if (isRoot) chownSync(root, ...(await postgresIds()));
  const primary = server(root, join(root, 'primary'), await freePort());
  const replica = server(root, join(root, 'replica'), await freePort());
  const destroy = async () => {
    await Promise.allSettled([replica.stop(), primary.stop()]);
    if (!process.env.KEEP_TMP) rmSync(root, { recursive: true, force: true });
  };
  try {
    await pg('initdb', ['-D', primary.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync']);
    await primary.start();
    await pg('pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres'],
      ...['-D', replica.dataDir, '-R', '-X', 'stream'],
    ]);
    await replica.start();
  } catch (error) {
    await destroy();
    throw error;
  }
  return { primary, replica, destroy };
}

async function postgresIds(): Promise<[number, number]> {
  const { stdout } = await execa('id', ['-u', 'postgres']);
  const { stdout: gid } = await execa('id', ['-g', 'postgres']);
  return [Number(stdout), Number(gid)];
}

/**
 * Runs a shell script as PostgreSQL's own tools would run (as the postgres user when this is
 * root), with the server binaries first on PATH: the generated compose scripts, outside Docker.
 */
export function runPgScript(file: string, args: string[], env: Record<string, string>) {
  const vars = Object.entries({ ...env, PATH: `${pgBin()!}:${process.env.PATH ?? ''}` }).map(
    ([name, value]) => `${name}=${value}`,
  );
  const argv = ['env', ...vars, 'sh', file, ...args];
  return isRoot
    ? execa('runuser', ['-u', 'postgres', '--', ...argv], { all: true, reject: false })
    : execa(argv[0]!, argv.slice(1), { all: true, reject: false });
}

/** Stops the server of `dataDir` (fast: open sessions are ended). */
export async function stopServer(dataDir: string): Promise<void> {
  await pg('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
}

/** Runs one SQL statement with psql and returns its unaligned output. */
export async function psql(server: PgServer, sql: string): Promise<string> {
  const { stdout } = await execa(join(pgBin()!, 'psql'), [server.url, '-XAtc', sql]);
  return stdout.trim();
}
