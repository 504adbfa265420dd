import { execa } from 'execa';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { getFresh } from '../helpers/load.js';
import { freePort, waitForHttp } from '../helpers/ports.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose successor is free too (PM2 instance i scrapes on METRICS_PORT + i). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 65535 && (await portIsFree(port + 1))) return port;
  }
}

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * The pm2 feature, end to end: `--features pm2,metrics` (built against the shared install), then the built app run by the
 * project's own pm2 (a private PM2_HOME, killed at the end) in cluster mode with two instances.
 */
describe('pm2 feature (with metrics)', () => {
  let dir = '';
  let pm2Home = '';
  let env: Record<string, string> = {};
  let started = false;

  const pm2 = (...args: string[]) =>
    execa(process.execPath, [join(dir, 'node_modules/pm2/bin/pm2'), ...args], {
      cwd: dir,
      env,
      reject: false,
      stdin: 'ignore',
      timeout: 120_000,
    });

  beforeAll(async () => {
    const parent = tempDir();
    ({ dir } = await generateBuilt(parent, 'managed', ['--features', 'pm2,metrics']));
    pm2Home = tempDir('cse-pm2-');
  });

  afterAll(async () => {
    if (started) await pm2('kill');
  });

  it('ships ecosystem.config.cjs, the start:pm2 script and pm2 from the version map', async () => {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(pkg.scripts['start:pm2']).toContain('ecosystem.config.cjs');
    expect(pkg.dependencies.pm2).toMatch(/^\^\d+/);
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('## PM2');
    expect(readme).toMatch(/aggregation cannot work/);
  });

  it('a bad app setting stops `pm2 start` and pm2-runtime with one line, exit 1, nothing started', async () => {
    env = {
      ...(process.env as Record<string, string>),
      PM2_HOME: pm2Home,
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      WEB_CONCURRENCY: '2',
      LOG_LEVEL: 'loud',
    };
    started = true;
    const line = /^Invalid configuration: LOG_LEVEL must be one of [^\n]+$/m;
    const start = await pm2('start', 'ecosystem.config.cjs');
    expect(start.exitCode, String(start.stdout)).toBe(1);
    expect(String(start.stderr).trim()).toMatch(line);
    expect(String(start.stderr).match(/Invalid configuration/g)).toHaveLength(1);
    expect(JSON.parse(String((await pm2('jlist')).stdout))).toEqual([]);

    const runtime = await execa(
      process.execPath,
      [join(dir, 'node_modules/pm2/bin/pm2-runtime'), 'start', 'ecosystem.config.cjs'],
      { cwd: dir, env, reject: false, stdin: 'ignore', timeout: 120_000 },
    );
    expect(runtime.exitCode).toBe(1);
    expect(String(runtime.stderr).trim()).toMatch(line);
  });

  it('ecosystem.config.cjs gives pm2 the expected values (written out here, not from the generator)', async () => {
    // And with New Relic, whose preloads pm2 must pass as node_args (no install needed to read it).
    const parent = tempDir();
    const result = await runCli(
      ['pm2-newrelic', '--features', 'pm2,newrelic', '--yes', '--no-install', '--no-git'],
      { cwd: parent },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const require = createRequire(import.meta.url);
    const load = (
      project: string,
      env: Record<string, string | undefined>,
    ): Record<string, unknown> => {
      const file = join(project, 'ecosystem.config.cjs');
      for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
      try {
        Reflect.deleteProperty(require.cache, file);
        return (require(file) as { apps: Record<string, unknown>[] }).apps[0]!;
      } finally {
        vi.unstubAllEnvs();
      }
    };
    const unset = {
      WEB_CONCURRENCY: undefined,
      SHUTDOWN_TIMEOUT_MS: undefined,
      MAX_MEMORY_RESTART: undefined,
    };
    expect(load(dir, unset)).toMatchObject({
      name: 'managed',
      script: 'dist/main.js',
      exec_mode: 'cluster',
      instances: 'max',
      wait_ready: true,
      kill_timeout: 15_000,
      max_memory_restart: '512M',
      env: { NODE_ENV: 'production' },
    });
    expect(load(dir, unset)).not.toHaveProperty('node_args');
    expect(
      load(dir, { WEB_CONCURRENCY: '3', SHUTDOWN_TIMEOUT_MS: '30000', MAX_MEMORY_RESTART: '1G' }),
    ).toMatchObject({ instances: 3, kill_timeout: 35_000, max_memory_restart: '1G' });
    expect(load(join(parent, 'pm2-newrelic'), unset)).toMatchObject({
      name: 'pm2-newrelic',
      script: 'dist/main.js',
      node_args: ['--import', 'newrelic/esm-loader.mjs', '-r', 'newrelic'],
    });
  });

  it('serves under pm2 in cluster mode; each instance reports its own metrics', async () => {
    const port = await freePort();
    const metricsPort = await freePortPair();
    env = {
      ...(process.env as Record<string, string>),
      PM2_HOME: pm2Home,
      PORT: String(port),
      HOST: '127.0.0.1',
      WEB_CONCURRENCY: '2',
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '3000',
    };
    started = true;
    const start = await pm2('start', 'ecosystem.config.cjs');
    expect(start.exitCode, `${String(start.stdout)}\n${String(start.stderr)}`).toBe(0);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/healthz`, 60_000);

    const list = JSON.parse(String((await pm2('jlist')).stdout)) as {
      pm2_env: { status: string; exec_mode: string; kill_timeout: number };
    }[];
    expect(list).toHaveLength(2);
    for (const proc of list) {
      expect(proc.pm2_env.exec_mode).toBe('cluster_mode');
      expect(proc.pm2_env.kill_timeout).toBeGreaterThan(3000);
    }
    // wait_ready: both instances come online once they signalled ready.
    const online = async (): Promise<boolean> => {
      const procs = JSON.parse(String((await pm2('jlist')).stdout)) as {
        pm2_env: { status: string };
      }[];
      return procs.every((p) => p.pm2_env.status === 'online');
    };
    const deadline = Date.now() + 60_000;
    while (!(await online()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(await online()).toBe(true);

    const N = 30;
    for (let i = 0; i < N; i++) expect(await getFresh(`${url}/api/hello`)).toBe(200);

    // Per-process scraping: instance i on METRICS_PORT + i; PM2 spread the requests over both.
    const counts: number[] = [];
    for (const p of [metricsPort, metricsPort + 1]) {
      const res = await fetch(`http://127.0.0.1:${p}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      counts.push(
        sample(
          text,
          'http_request_duration_seconds_count',
          'method="GET",route="/api/hello",status_code="200"',
        ) ?? 0,
      );
    }
    expect(counts.reduce((a, b) => a + b, 0)).toBe(N);
    expect(Math.min(...counts)).toBeGreaterThan(0);

    // pm2 stop sends SIGINT: each instance drains and exits on its own, before kill_timeout.
    const stop = await pm2('stop', 'all');
    expect(stop.exitCode).toBe(0);
    const logs = join(pm2Home, 'logs');
    const out = (
      await Promise.all(
        (await readdir(logs))
          .filter((f) => f.endsWith('.log'))
          .map((f) => readFile(join(logs, f), 'utf8')),
      )
    ).join('\n');
    expect(out.split('"shutting down","signal":"SIGINT"').length - 1).toBe(2);
    expect(out).not.toContain('second signal');
    expect(out).not.toContain('shutdown deadline reached');
  });
});
