// npm run bench — measured side by side in one run, so the ratios hold on a noisy shared machine.
//   1. CLI start-up: `--help` against express-generator's.
//   2. Generating a project (no install, no verify): the base app and the full preset, each
//      against express-generator generating its app.
//   3. Throughput of a generated `standard` app (single process) against a bare Express 5 app with
//      one JSON route, and of `cluster` with 2 workers against 1 (autocannon on loopback).
// Flags: --runs N (default 15), --skip-throughput, --duration S (default 8).
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ours = join(root, 'bin', 'create-scalable-express.js');
const theirs = join(root, 'node_modules', 'express-generator', 'bin', 'express-cli.js');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const runs = flag('--runs', 15);
const duration = flag('--duration', 8);
const work = mkdtempSync(join(tmpdir(), 'cse-bench-'));
const env = { ...process.env, NO_COLOR: '1', CI: 'true' };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const fmt = (ms) => `${ms.toFixed(1)} ms`;

function time(argv, cwd) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { cwd, env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Alternates the two commands run by run so that machine noise hits both alike. */
function compare(label, a, b) {
  const ta = [];
  const tb = [];
  for (let i = 0; i < runs; i++) {
    ta.push(a(i));
    tb.push(b(i));
  }
  const [ma, mb] = [median(ta), median(tb)];
  console.log(
    `${label.padEnd(44)} ours ${fmt(ma).padStart(10)}   express-generator ${fmt(mb).padStart(10)}   ratio ${(ma / mb).toFixed(2)}×`,
  );
  return ma / mb;
}

console.log(
  `Node ${process.version}, ${availableParallelism()} CPUs, median of ${runs} alternating runs\n`,
);
compare(
  '--help',
  () => time([ours, '--help']),
  () => time([theirs, '--help']),
);
compare(
  'generate the base app (no install)',
  (i) => time([ours, `ours-${i}`, '--yes', '--no-install', '--no-git'], work),
  (i) => time([theirs, '--no-view', `theirs-${i}`], work),
);
// The target: the full preset (every file we can write) against their one scaffold.
compare(
  'generate the full preset (no install)',
  (i) => time([ours, `full-${i}`, '--preset', 'full', '--yes', '--no-install', '--no-git'], work),
  (i) => time([theirs, '--no-view', `theirs-full-${i}`], work),
);

if (!args.includes('--skip-throughput')) await throughput();
rmSync(work, { recursive: true, force: true });

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer(file, cwd, extraEnv) {
  const port = await freePort();
  const child = spawn(process.execPath, [file], {
    cwd,
    env: { ...env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let healthy = false;
  for (let i = 0; i < 200 && !healthy; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    healthy = ok;
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!healthy) {
    child.kill('SIGKILL');
    throw new Error(`${file} did not answer /healthz: see its output above`);
  }
  return { port, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) };
}

async function load(url) {
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({ url, connections: 50, pipelining: 1, duration, workers: 0 });
  if (result.non2xx > 0 || result.errors > 0)
    console.log(`  (non-2xx ${result.non2xx}, errors ${result.errors})`);
  return result.requests.average;
}

async function throughput() {
  console.log('\nThroughput (autocannon, 50 connections, loopback, same run):');
  const parent = join(work, 'tp');
  const gen = spawnSync(
    process.execPath,
    [ours, 'std', '--preset', 'standard', '--yes', '--no-git', '--no-verify'],
    { cwd: work, env, stdio: 'inherit' },
  );
  if (gen.status !== 0) throw new Error('could not generate the standard app');
  const std = join(work, 'std');
  if (spawnSync('npm', ['run', 'build'], { cwd: std, stdio: 'ignore' }).status !== 0)
    throw new Error('build failed');
  // The ceiling: a bare Express 5 app with one JSON route, on the same express install.
  writeFileSync(
    join(std, 'bare.mjs'),
    `import express from 'express';
const app = express();
app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
app.get('/api/hello', (_req, res) => { res.json({ message: 'Hello, world!' }); });
app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`,
  );
  void parent;
  const appEnv = { LOG_LEVEL: 'info', RATE_LIMIT_MAX: '1000000', RATE_LIMIT_WINDOW_MS: '60000' };
  const measure = async (label, file, extra) => {
    const server = await startServer(file, std, { ...appEnv, ...extra });
    await load(`http://127.0.0.1:${server.port}/api/hello`); // warm-up
    const rps = await load(`http://127.0.0.1:${server.port}/api/hello`);
    await server.stop();
    console.log(`  ${label.padEnd(52)} ${Math.round(rps).toString().padStart(7)} req/s`);
    return rps;
  };
  const bare = await measure('bare Express 5, one JSON route', 'bare.mjs', {});
  const single = await measure(
    'standard preset, cluster of 1 worker (WEB_CONCURRENCY=1)',
    'dist/main.js',
    {
      WEB_CONCURRENCY: '1',
    },
  );
  const logged = await measure('standard preset, 1 worker, every request logged', 'dist/main.js', {
    WEB_CONCURRENCY: '1',
    LOG_LEVEL: 'http',
  });
  const two = await measure('standard preset, cluster of 2 workers', 'dist/main.js', {
    WEB_CONCURRENCY: '2',
  });
  console.log(`\n  standard / bare Express: ${(single / bare).toFixed(2)}×   (target ≥ 0.60×)`);
  console.log(`  standard with request logging / bare Express: ${(logged / bare).toFixed(2)}×`);
  console.log(
    `  cluster 2 workers / 1 worker: ${(two / single).toFixed(2)}×   (the load generator shares the 2 cores)`,
  );
  void existsSync;
  void symlinkSync;
}
