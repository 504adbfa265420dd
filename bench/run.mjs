// npm run bench — measured side by side in one run, so the ratios hold on a noisy shared machine.
//   1. CLI start-up: `--help` against express-generator's.
//   2. Generating a project (no install, no verify): the base app and the full preset, each
//      against express-generator generating its app; then the floor: a bare script writing the
//      full preset's files, against the same.
//   2b. The same two comparisons with hyperfine when it is installed (its median wall time, and
//      the mean CPU time, user + system, which a busy shared machine disturbs less).
//   3. Throughput of generated apps against a bare Express 5 app with one JSON route: `minimal`,
//      each in-app feature alone and `standard` (one worker), all running at once on CPU 0 and
//      loaded in turn by wrk on CPU 1, round after round (bench/interleaved.mjs): median req/s
//      and server CPU per request. Then `cluster` with 2 workers against 1 (autocannon,
//      unpinned: the load generator shares the cores).
//   4. The queue feature: enqueue jobs/s and enqueue-to-finish latency with two workers.
//   5. GET /api/items/:id of the postgres feature on a real replica, without and with the Redis
//      cache (bench/postgres.mjs; needs Debian's PostgreSQL and redis-server).
// Flags: --runs N (default 15), --skip-throughput, --skip-queue, --skip-postgres, --rounds N
// (throughput rounds, default 5), --duration S (seconds per load run, default 5).
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { canInterleave, interleave, startPinned, stopAll } from './interleaved.mjs';
import { postgresItems } from './postgres.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ours = join(root, 'bin', 'create-scalable-express.js');
const theirs = join(root, 'node_modules', 'express-generator', 'bin', 'express-cli.js');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const runs = flag('--runs', 15);
const duration = flag('--duration', 5);
const rounds = flag('--rounds', 5);
const work = mkdtempSync(join(tmpdir(), 'cse-bench-'));
const env = { ...process.env, NO_COLOR: '1', CI: 'true', npm_config_prefer_offline: 'true' };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const fmt = (ms) => `${ms.toFixed(1)} ms`;

// Each run's CPU time (user + system), reported by the process itself as it exits, through a
// preload (-r, CommonJS: it starts no ESM loader in express-generator, which is CommonJS) on fd 3.
const cpuReporter = join(work, 'cpu-usage.cjs');
writeFileSync(
  cpuReporter,
  `process.on('exit', () => { const u = process.cpuUsage(); require('node:fs').writeSync(3, String((u.user + u.system) / 1000)); });\n`,
);

/** Runs `node argv` once: { wall, cpu } in ms. */
function time(argv, cwd) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', cpuReporter, ...argv], {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return { wall, cpu: Number(String(r.output[3])) };
}

/** Alternates the two commands run by run so that machine noise hits both alike; the median
 * wall and CPU time of each, and our ratio to theirs (the targets are on these). */
function compare(label, a, b) {
  const ta = [];
  const tb = [];
  for (let i = 0; i < runs; i++) {
    ta.push(a(i));
    tb.push(b(i));
  }
  const m = (xs, key) => median(xs.map((x) => x[key]));
  const [wa, wb, ca, cb] = [m(ta, 'wall'), m(tb, 'wall'), m(ta, 'cpu'), m(tb, 'cpu')];
  console.log(
    `${label.padEnd(44)} ours ${fmt(wa).padStart(10)}   express-generator ${fmt(wb).padStart(10)}   ratio ${(wa / wb).toFixed(2)}×   CPU ${fmt(ca)} / ${fmt(cb)} = ${(ca / cb).toFixed(2)}×`,
  );
  return wa / wb;
}

console.log(
  `Node ${process.version}, ${availableParallelism()} CPUs, median of ${runs} alternating runs (wall time; CPU: user + system)\n`,
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
// The floor under that ratio: the smallest Node program that writes the same files (sync, one
// mkdir per folder), with nothing to parse, render or check. On a disk where creating a file
// costs a few hundred µs, this alone is most of the gap to a scaffold of ten files.
const floor = writeFloorScript(join(work, 'full-0'));
compare(
  'write the same files, nothing else (floor)',
  (i) => time([floor, join(work, `floor-${i}`)], work),
  (i) => time([theirs, '--no-view', `theirs-floor-${i}`], work),
);

/** A CommonJS script holding every file of `dir` as a string, which writes them under argv[2]. */
function writeFloorScript(dir) {
  const files = {};
  const walk = (rel) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else files[path] = readFileSync(join(dir, path), 'utf8');
    }
  };
  walk('');
  const script = join(work, 'write-floor.cjs');
  writeFileSync(
    script,
    [
      `const { mkdirSync, writeFileSync } = require('node:fs');`,
      `const files = ${JSON.stringify(files)};`,
      `const made = new Set();`,
      `for (const [path, text] of Object.entries(files)) {`,
      `  const file = process.argv[2] + '/' + path;`,
      `  const folder = file.slice(0, file.lastIndexOf('/'));`,
      `  if (!made.has(folder)) mkdirSync(folder, { recursive: true }), made.add(folder);`,
      `  writeFileSync(file, text, { flag: 'wx' });`,
      `}`,
    ].join('\n'),
  );
  return script;
}

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
  const c = join(work, 'hf-floor');
  hyperfine(
    'write the same files, nothing else (floor)',
    [`${node} ${floor} ${c}`, `${node} ${theirs} --no-view ${b}`],
    `rm -rf ${c} ${b}`,
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
  // `file` may be an argv (preload flags first, as a start script has them).
  const files = [file].flat();
  const [command, argv] = pin
    ? ['taskset', ['-c', '0', process.execPath, ...files]]
    : [process.execPath, files];
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

/** Requests per second from autocannon in a child process (on CPU 1 when pinned); with `withP99`,
 * also the p99 latency: { rps, p99 }. */
function load(url, pin, withP99 = false) {
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
        const rps = result.requests.average;
        resolve(withP99 ? { rps, p99: result.latency.p99 } : rps);
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
  'otel',
  'morgan',
  'metrics',
  'static',
  'load-shedding',
];

/** An OTLP/HTTP receiver on loopback that reads and discards what it is sent. */
async function otlpSink() {
  const port = await freePort();
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

async function throughput() {
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
  const standard = projects.at(-1)[1];

  // One worker wherever cluster is on; rate limits high enough never to refuse the load.
  const appEnv = {
    ...env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    WEB_CONCURRENCY: '1',
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_WINDOW_MS: '60000',
  };
  // otel runs as in production: preloaded by its start script, exporting to a local receiver.
  const sink = await otlpSink();
  const otelStart = ['--import', './dist/features/otel/register.js', 'dist/main.js'];
  const otelEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url };
  const otelDir = projects.find(([label]) => label === 'otel')[1];
  /** [label, dir, argv, extra env] of every server in the table, the reference first. */
  const table = [
    ['bare Express 5, one JSON route', minimal, ['bare.mjs'], {}],
    ...projects.map(([label, dir]) => [
      label === 'minimal' || label === 'standard' ? `${label} preset` : `${label} alone`,
      dir,
      label === 'otel' ? otelStart : ['dist/main.js'],
      label === 'otel' ? otelEnv : {},
    ]),
    [
      'otel, every request traced',
      otelDir,
      otelStart,
      { ...otelEnv, OTEL_TRACES_SAMPLER: 'always_on' },
    ],
    ['otel without an endpoint (off)', otelDir, otelStart, {}],
    ['standard, every request logged', standard, ['dist/main.js'], { LOG_LEVEL: 'http' }],
  ];

  if (canInterleave()) {
    console.log(
      `\nThroughput of GET /api/hello, ${rounds} interleaved rounds of ${duration} s (every server on CPU 0, wrk -c50 on CPU 1, one server at a time, round after round; medians; server CPU per request from /proc, the steadier figure on a busy machine):`,
    );
    const servers = [];
    try {
      for (const [label, dir, argv, extra] of table)
        servers.push(await startPinned(label, dir, argv, { ...appEnv, ...extra }));
      interleave(servers, rounds, duration, (r) =>
        process.stderr.write(`  round ${r} of ${rounds}\n`),
      );
    } finally {
      await stopAll(servers);
    }
    const [bare] = servers;
    const cpuRatio = (s) => median(bare.us) / median(s.us);
    const rpsRatio = (s) => median(s.rps) / median(bare.rps);
    for (const s of servers) {
      console.log(
        `  ${s.label.padEnd(34)} ${Math.round(median(s.rps)).toString().padStart(7)} req/s ${rpsRatio(s).toFixed(2)}×   ${median(s.us).toFixed(1).padStart(6)} µs CPU/req ${cpuRatio(s).toFixed(2)}× (bare's CPU / its CPU)`,
      );
    }
    const by = (label) => servers.find((s) => s.label === label);
    const [min, std, otel] = [by('minimal preset'), by('standard preset'), by('otel alone')];
    console.log(
      `\n  minimal / bare: ${rpsRatio(min).toFixed(2)}× req/s, ${cpuRatio(min).toFixed(2)}× CPU (target ≥ 0.85×)   standard / bare: ${rpsRatio(std).toFixed(2)}× req/s, ${cpuRatio(std).toFixed(2)}× CPU (target ≥ 0.70×)`,
    );
    console.log(
      `  otel (default sampling, 1 in 10) / minimal: ${(median(otel.rps) / median(min.rps)).toFixed(2)}× req/s, ${(median(min.us) / median(otel.us)).toFixed(2)}× CPU (target ≥ 0.85×)`,
    );
  } else {
    console.log('\n(throughput table skipped: it needs two CPUs, taskset and wrk)');
  }
  sink.close();

  const measure = async (dir, extra) => {
    const server = await startServer('dist/main.js', dir, { ...appEnv, ...extra }, false);
    try {
      await load(`http://127.0.0.1:${server.port}/api/hello`, false); // warm-up
      return await load(`http://127.0.0.1:${server.port}/api/hello`, false);
    } finally {
      await server.stop();
    }
  };
  const one = await measure(standard, {});
  const two = await measure(standard, { WEB_CONCURRENCY: '2' });
  console.log(
    `  standard, cluster of 2 workers / 1 worker: ${(two / one).toFixed(2)}× (autocannon, unpinned: the load generator shares the 2 cores)`,
  );
}

/**
 * The queue feature: jobs/s accepted by POST /api/reports (enqueue into Redis, 50 clients) and
 * enqueue-to-finish latency with two worker processes, read from BullMQ's own job timestamps.
 * Tiny jobs (1 hash round): this measures the queue, not the work.
 */
async function queueBench(jobs = 2000) {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.log('\nQueue: skipped (no redis-server)');
    return;
  }
  const dir = generate('q-queue', ['--features', 'redis,queue']);
  const redisPort = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const REDIS_URL = `redis://127.0.0.1:${redisPort}`;
  const queueEnv = { REDIS_URL, LOG_LEVEL: 'warn', QUEUE_KEEP_COMPLETED: String(jobs * 2) };
  await new Promise((r) => setTimeout(r, 300));
  const server = await startServer('dist/main.js', dir, queueEnv, false);
  const workers = [0, 1].map(() =>
    spawn(process.execPath, ['dist/worker.js'], {
      cwd: dir,
      env: { ...env, NODE_ENV: 'production', QUEUE_CONCURRENCY: '8', ...queueEnv },
      stdio: 'ignore',
    }),
  );
  const { default: Redis } = await import(
    join(dir, 'node_modules', 'ioredis', 'built', 'index.js')
  );
  const client = new Redis(REDIS_URL);
  try {
    const ids = [];
    const post = async (i) => {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `job ${i}`, rounds: 1 }),
      });
      if (res.status !== 202) throw new Error(`POST /api/reports answered ${res.status}`);
      ids.push((await res.json()).id);
    };
    /** Seconds for `jobs` calls of `send`, 50 at a time. */
    const burst = async (send) => {
      const began = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (next < jobs) await send(next++);
        }),
      );
      return (performance.now() - began) / 1000;
    };
    // The reference on this machine, now: the same POSTs to /api/echo, which enqueues nothing.
    const echoSeconds = await burst(async (i) => {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `job ${i}`, rounds: 1 }),
      });
      await res.arrayBuffer();
    });
    const started = performance.now();
    const enqueueSeconds = await burst(post);
    const completedKey = 'bull:jobs:completed';
    while ((await client.zcard(completedKey)) < jobs) await new Promise((r) => setTimeout(r, 50));
    const allSeconds = (performance.now() - started) / 1000;
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hmget(`bull:jobs:${id}`, 'timestamp', 'finishedOn');
    const latencies = (await pipeline.exec()).map(([, [t, f]]) => Number(f) - Number(t));
    const sorted = latencies.sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    console.log(
      `\nQueue (redis-server on loopback, ${jobs} tiny jobs, 50 clients, 2 workers × 8):`,
    );
    console.log(
      `  enqueue (POST /api/reports → 202): ${Math.round(jobs / enqueueSeconds)} jobs/s; POST /api/echo (no queue): ${Math.round(jobs / echoSeconds)} req/s; ratio ${(echoSeconds / enqueueSeconds).toFixed(2)}×`,
    );
    console.log(
      `  all ${jobs} processed in ${allSeconds.toFixed(1)} s: ${Math.round(jobs / allSeconds)} jobs/s end to end`,
    );
    console.log(
      `  enqueue → finished latency: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms (while the queue drains the burst)`,
    );
  } finally {
    client.disconnect();
    await server.stop();
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => new Promise((r) => (w.exitCode === null ? w.once('exit', r) : r()))),
    );
    redis.kill('SIGTERM');
  }
}

// Last: the helpers above are module constants, defined only once this line is reached.
if (!args.includes('--skip-throughput')) await throughput();
if (!args.includes('--skip-queue')) await queueBench();
if (!args.includes('--skip-postgres')) {
  await postgresItems({
    generate,
    freePort,
    measure: async (dir, extra, path) => {
      const server = await startServer(
        'dist/main.js',
        dir,
        { LOG_LEVEL: 'warn', ...extra },
        canPin,
      );
      try {
        await load(`http://127.0.0.1:${server.port}${path}`, canPin); // warm-up
        return await load(`http://127.0.0.1:${server.port}${path}`, canPin, true);
      } finally {
        await server.stop();
      }
    },
  });
}
rmSync(work, { recursive: true, force: true });
