// npm run bench — measured side by side in one run, so the ratios hold on a noisy shared machine.
//   1. CLI start-up: `--help` against express-generator's.
//   2. Generating a project (no install, no verify): the base app and the full preset, each
//      against express-generator generating its app.
//   2b. The same two comparisons with hyperfine when it is installed (its median wall time, and
//      the mean CPU time, user + system, which a busy shared machine disturbs less).
//   3. Throughput of generated apps against a bare Express 5 app with one JSON route: `minimal`,
//      each in-app feature alone and `standard` (one worker), with the server pinned to CPU 0 and
//      the load generator (autocannon) to CPU 1 when taskset and two CPUs are there; then
//      `cluster` with 2 workers against 1 (unpinned: the load generator shares the cores).
// Flags: --runs N (default 15), --skip-throughput, --duration S (default 8).
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** hyperfine's median wall time and mean CPU time of each command, in ms (one run, side by side). */
function hyperfine(label, commands, prepare) {
  const json = join(work, 'hyperfine.json');
  const argv = ['-N', '--warmup', '3', '--runs', String(runs), '--export-json', json];
  if (prepare) argv.push('--prepare', prepare);
  const r = spawnSync('hyperfine', [...argv, ...commands], { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`hyperfine failed for ${label}`);
  const [a, b] = JSON.parse(readFileSync(json, 'utf8')).results.map((x) => ({
    wall: x.median * 1000,
    cpu: (x.user + x.system) * 1000,
  }));
  console.log(
    `${label.padEnd(44)} ours ${fmt(a.wall).padStart(10)}   express-generator ${fmt(b.wall).padStart(10)}   ratio ${(a.wall / b.wall).toFixed(2)}×   CPU ${fmt(a.cpu)} / ${fmt(b.cpu)} = ${(a.cpu / b.cpu).toFixed(2)}×`,
  );
}

if (spawnSync('hyperfine', ['--version']).status === 0) {
  console.log(`\nThe same with hyperfine (median wall time; CPU: mean user + system):`);
  const node = process.execPath;
  hyperfine('--help', [`${node} ${ours} --help`, `${node} ${theirs} --help`]);
  const [a, b] = [join(work, 'hf-ours'), join(work, 'hf-theirs')];
  hyperfine(
    'generate the full preset (no install)',
    [
      `${node} ${ours} ${a} --preset full --yes --no-install --no-git`,
      `${node} ${theirs} --no-view ${b}`,
    ],
    `rm -rf ${a} ${b}`,
  );
} else {
  console.log('\n(hyperfine is not installed: apt-get install hyperfine for its comparison)');
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer(file, cwd, extraEnv, pin) {
  const port = await freePort();
  const [command, argv] = pin
    ? ['taskset', ['-c', '0', process.execPath, file]]
    : [process.execPath, [file]];
  const child = spawn(command, argv, {
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

const autocannonCli = join(root, 'node_modules', 'autocannon', 'autocannon.js');
const canPin =
  availableParallelism() >= 2 && spawnSync('taskset', ['-c', '1', 'true']).status === 0;

/** Requests per second from autocannon in a child process (on CPU 1 when pinned). */
function load(url, pin) {
  const argv = [autocannonCli, '--json', '-c', '50', '-d', String(duration), url];
  const [command, full] = pin
    ? ['taskset', ['-c', '1', process.execPath, ...argv]]
    : [process.execPath, argv];
  return new Promise((resolve, reject) => {
    const child = spawn(command, full, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        const result = JSON.parse(out);
        if (result.non2xx > 0 || result.errors > 0)
          console.log(`  (non-2xx ${result.non2xx}, errors ${result.errors})`);
        resolve(result.requests.average);
      } catch {
        reject(new Error(`autocannon gave no result for ${url}`));
      }
    });
  });
}

/** Generates and builds one project (installed, not verified). */
function generate(name, argv) {
  const gen = spawnSync(
    process.execPath,
    [ours, name, ...argv, '--yes', '--no-git', '--no-verify'],
    {
      cwd: work,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (gen.status !== 0) throw new Error(`could not generate ${name}`);
  const dir = join(work, name);
  if (spawnSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' }).status !== 0)
    throw new Error(`${name}: build failed`);
  return dir;
}

/** The in-app features: each changes what a request goes through (deployment ones add files). */
const inApp = [
  'cluster',
  'redis',
  'rate-limit',
  'winston',
  'pino',
  'newrelic',
  'metrics',
  'static',
];

async function throughput() {
  console.log(
    `\nThroughput of GET /api/hello (autocannon, 50 connections, ${duration} s, loopback, same run; ${canPin ? 'server on CPU 0, load on CPU 1' : 'unpinned: taskset or a second CPU is missing'}):`,
  );
  const minimal = generate('tp-minimal', []);
  // The ceiling: a bare Express 5 app with one JSON route, on the same express install.
  writeFileSync(
    join(minimal, 'bare.mjs'),
    `import express from 'express';
const app = express();
app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
app.get('/api/hello', (_req, res) => { res.json({ message: 'Hello, world!' }); });
app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`,
  );
  const projects = [['minimal', minimal]];
  for (const id of inApp) projects.push([id, generate(`tp-${id}`, ['--features', id])]);
  projects.push(['standard', generate('tp-standard', ['--preset', 'standard'])]);

  // One worker wherever cluster is on; rate limits high enough never to refuse the load.
  const appEnv = {
    LOG_LEVEL: 'info',
    WEB_CONCURRENCY: '1',
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_WINDOW_MS: '60000',
  };
  const measure = async (dir, file, extra = {}, pin = canPin) => {
    const server = await startServer(file, dir, { ...appEnv, ...extra }, pin);
    try {
      await load(`http://127.0.0.1:${server.port}/api/hello`, pin); // warm-up
      return await load(`http://127.0.0.1:${server.port}/api/hello`, pin);
    } finally {
      await server.stop();
    }
  };
  const bare = await measure(minimal, 'bare.mjs');
  const row = (label, rps) =>
    console.log(
      `  ${label.padEnd(34)} ${Math.round(rps).toString().padStart(7)} req/s   ${(rps / bare).toFixed(2)}× bare`,
    );
  row('bare Express 5, one JSON route', bare);
  const ratio = {};
  for (const [label, dir] of projects) {
    const rps = await measure(dir, 'dist/main.js');
    ratio[label] = rps / bare;
    row(label === 'minimal' || label === 'standard' ? `${label} preset` : `${label} alone`, rps);
  }
  const standard = projects.at(-1)[1];
  row(
    'standard, every request logged',
    await measure(standard, 'dist/main.js', { LOG_LEVEL: 'http' }),
  );
  console.log(
    `\n  minimal / bare: ${ratio.minimal.toFixed(2)}× (target ≥ 0.85×)   standard / bare: ${ratio.standard.toFixed(2)}× (target ≥ 0.70×)`,
  );
  const one = await measure(standard, 'dist/main.js', {}, false);
  const two = await measure(standard, 'dist/main.js', { WEB_CONCURRENCY: '2' }, false);
  console.log(
    `  standard, cluster of 2 workers / 1 worker: ${(two / one).toFixed(2)}× (unpinned: the load generator shares the 2 cores)`,
  );
}

// Last: the helpers above are module constants, defined only once this line is reached.
if (!args.includes('--skip-throughput')) await throughput();
rmSync(work, { recursive: true, force: true });
