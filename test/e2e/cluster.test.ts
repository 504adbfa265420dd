import { execa } from 'execa';
import { createServer, type Server } from 'node:net';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { childPids, getFresh, isAlive, runLoad, waitFor } from '../helpers/load.js';
import { freePort, waitForHttp } from '../helpers/ports.js';
import { spawnTracked, startApp } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/** Preloaded in every process: appends each request a server receives to $REQUEST_PROBE_FILE. */
const REQUEST_PROBE = `import http from 'node:http';
import { appendFileSync } from 'node:fs';
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'request')
    appendFileSync(process.env.REQUEST_PROBE_FILE, \`\${args[0].method} \${args[0].url}\\n\`);
  return emit.call(this, event, ...args);
};
`;

/**
 * The cluster feature, end to end: a project generated with `--features cluster,static` (built against the shared install),
 * built, then run as production would (`node dist/main.js`) and driven over HTTP and with signals.
 */
describe('cluster feature', () => {
  let dir = '';

  beforeAll(async () => {
    const parent = tempDir();
    // static too: its ASSET_BASE_URL is a feature setting, which every process must validate.
    ({ dir } = await generateBuilt(parent, 'clustered', ['--features', 'cluster,static']));
  });

  it('documents its variables and the one-process-per-pod rule', async () => {
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('## Node cluster');
    expect(readme).toMatch(/Kubernetes[^\n]*one process per pod[^\n]*WEB_CONCURRENCY=1/);
    const env = await readFile(join(dir, '.env.example'), 'utf8');
    expect(env).toMatch(/^WEB_CONCURRENCY=/m);
    expect(env).toMatch(/^CLUSTER_MAX_CRASHES=/m);
  });

  it('forks WEB_CONCURRENCY workers', async () => {
    const app = await startApp(dir, { WEB_CONCURRENCY: '3' });
    expect(await waitFor(async () => (await childPids(app.pid)).length === 3, 20_000)).toBe(true);
    expect((await fetch(`${app.url}/api/hello`)).status).toBe(200);
    expect(await app.stop()).toBe(0);
  });

  it('keeps answering when a worker is killed with -9, and respawns it', async () => {
    const app = await startApp(dir, { WEB_CONCURRENCY: '2' });
    expect(await waitFor(async () => (await childPids(app.pid)).length === 2, 20_000)).toBe(true);
    const before = await childPids(app.pid);
    const victim = before[0]!;

    const load = runLoad(`${app.url}/api/hello`, {
      concurrency: 3,
      durationMs: 4_000,
      maxRequests: 5_000,
      pauseMs: 5,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    process.kill(victim, 'SIGKILL');
    expect(
      await waitFor(() => app.output().includes('worker died unexpectedly: respawning'), 10_000),
    ).toBe(true);
    // The survivor keeps answering while the replacement starts (new connections: the dead
    // worker's sockets died with it). Generous bounds: the point is "does not hang".
    for (let i = 0; i < 10; i++) expect(await getFresh(`${app.url}/api/hello`, 10_000)).toBe(200);
    const result = await load;
    expect(result.ok).toBeGreaterThan(0);
    expect(result.refused).toBe(0);

    const respawned = await waitFor(async () => {
      const now = await childPids(app.pid);
      return now.length === 2 && !now.includes(victim);
    }, 30_000);
    expect(respawned, `workers now: ${(await childPids(app.pid)).join(', ')}`).toBe(true);
    expect(app.output()).toContain('worker died unexpectedly: respawning');
    expect(await getFresh(`${app.url}/api/hello`)).toBe(200);
    expect(await app.stop()).toBe(0);
  });

  it('on SIGTERM under load drains: no accepted request fails, then exits 0', async () => {
    // A preload in every process (workers inherit execArgv) records each request a worker
    // receives, synchronously: the test's own record of what the app accepted.
    const probe = join(dir, '..', 'request-probe.mjs');
    const received = join(dir, '..', 'received.log');
    await writeFile(probe, REQUEST_PROBE);
    await writeFile(received, '');
    const app = await startApp(
      dir,
      { WEB_CONCURRENCY: '2', LOG_LEVEL: 'info', REQUEST_PROBE_FILE: received },
      ['--import', probe, 'dist/main.js'],
    );
    // Both workers listening, so the load is spread over them.
    expect(
      await waitFor(() => app.output().split('"server listening"').length - 1 === 2, 20_000),
    ).toBe(true);
    let exited!: Promise<number | undefined>;
    const stopped = new Promise<void>((resolve) => {
      setTimeout(() => {
        exited = app.stop('SIGTERM');
        void exited.then(() => resolve());
      }, 1_500);
    });
    const result = await runLoad(`${app.url}/api/hello`, {
      concurrency: 4,
      durationMs: 30_000,
      maxRequests: 30_000,
      until: stopped,
    });
    await stopped;
    expect(await exited).toBe(0);
    // Keep-alive connections, as a proxy would use: none of the requests the workers accepted
    // failed (no 5xx, no reset, no hang-up, no timeout).
    expect(result.failures, JSON.stringify(result)).toEqual([]);
    expect(result.ok).toBeGreaterThan(0);
    // After the listeners closed, new connections were refused...
    expect(result.refused).toBeGreaterThan(0);
    // ...or, at the instant of closing, reset before any answer. Such a reset is harmless only if
    // no worker received its request: every request a worker received was answered.
    const lines = (await readFile(received, 'utf8')).split('\n');
    const receivedCount = lines.filter((l) => l === 'GET /api/hello').length;
    expect(receivedCount, `received by a worker; client saw ${JSON.stringify(result)}`).toBe(
      result.ok,
    );
    expect(app.output()).toContain('"all workers stopped"');
  });

  it('Ctrl-C (SIGINT to the whole process group) shuts down once, gracefully, exit 0', async () => {
    const port = await freePort();
    // Its own process group, as a terminal gives a foreground job.
    const child = execa(process.execPath, ['dist/main.js'], {
      cwd: dir,
      env: {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        WEB_CONCURRENCY: '2',
      },
      extendEnv: false,
      detached: true,
      all: true,
      reject: false,
      stdin: 'ignore',
    });
    let output = '';
    child.all.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const pid = child.pid!;
    try {
      const listening = (): number => output.split('"server listening"').length - 1;
      expect(await waitFor(() => listening() === 2, 30_000), output).toBe(true);
      process.kill(-pid, 'SIGINT');
      const timer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 30_000);
      const result = await child;
      clearTimeout(timer);
      expect(result.exitCode, output).toBe(0);
      // Each worker got the signal from the terminal and the primary's request: one drain each.
      expect(output.split('"shutting down"').length - 1).toBe(2);
      expect(output).not.toContain('second signal');
    } finally {
      if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
  });

  it('workers exit at once when the primary dies', async () => {
    const app = await startApp(dir, { WEB_CONCURRENCY: '2' });
    expect(await waitFor(async () => (await childPids(app.pid)).length === 2, 20_000)).toBe(true);
    const workers = await childPids(app.pid);
    await app.stop('SIGKILL');
    const gone = await waitFor(() => workers.every((pid) => !isAlive(pid)), 10_000);
    expect(gone, `still alive: ${workers.filter(isAlive).join(', ')}`).toBe(true);
  });

  it('reads .env when there is one (the environment wins), and says nothing when there is none', async () => {
    const port = await freePort();
    const env = { NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
    // No .env: nothing on stderr.
    const bare = await startApp(dir, { WEB_CONCURRENCY: '1' });
    expect(await bare.stop()).toBe(0);
    expect(bare.output()).toBe('');
    // PORT and WEB_CONCURRENCY from .env; LOG_LEVEL there is overridden by the environment.
    await writeFile(join(dir, '.env'), `PORT=${port}\nWEB_CONCURRENCY=2\nLOG_LEVEL=loud\n`);
    try {
      const { child, output } = spawnTracked(process.execPath, ['dist/main.js'], { cwd: dir, env });
      expect(await waitFor(async () => (await childPids(child.pid!)).length === 2, 30_000)).toBe(
        true,
      );
      await waitForHttp(`http://127.0.0.1:${port}/healthz`);
      expect(await getFresh(`http://127.0.0.1:${port}/healthz`)).toBe(200);
      child.kill('SIGTERM');
      expect((await child).exitCode, output()).toBe(0);
    } finally {
      await rm(join(dir, '.env'), { force: true });
    }
  });

  it('a bad feature setting stops the primary with one line and exit 1, before any worker', async () => {
    const bads: Record<string, string>[] = [
      { ASSET_BASE_URL: 'not a url' },
      { WEB_CONCURRENCY: 'many' },
    ];
    for (const bad of bads) {
      const port = await freePort();
      const { child } = spawnTracked(process.execPath, ['dist/main.js'], {
        cwd: dir,
        env: {
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          LOG_LEVEL: 'info',
          WEB_CONCURRENCY: '2',
          ...bad,
        },
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const result = await child;
      clearTimeout(timer);
      const name = Object.keys(bad)[0]!;
      expect(result.exitCode, String(result.all)).toBe(1);
      // No worker was forked, so nothing crash-loops: stderr is the one line, stdout is empty.
      expect(String(result.stderr).trim()).toMatch(
        new RegExp(`^Invalid configuration: ${name} [^\n]+$`),
      );
      expect(String(result.stdout)).toBe('');
    }
  });

  it('stops a crash loop with a clear error and exit code 1', async () => {
    // Workers cannot listen on a port that is taken: every worker dies at start-up.
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const { child, output } = spawnTracked(process.execPath, ['dist/main.js'], {
        cwd: dir,
        env: {
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          LOG_LEVEL: 'warn',
          WEB_CONCURRENCY: '2',
          CLUSTER_MAX_CRASHES: '3',
        },
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const result = await child;
      clearTimeout(timer);
      expect(result.exitCode, output()).toBe(1);
      expect(output()).toContain('crash loop: too many workers died, stopping');
      // It backed off and respawned before giving up: not a tight loop.
      expect(output().split('worker died unexpectedly: respawning').length - 1).toBe(3);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
