// node bench/instructions.mjs REQUESTS 'label=DIR[:ARGS]' ... (specs as in cpu-per-request.mjs;
// the first server is the reference). WARM_UP=N sets the warm-up requests (default 5000).
// Machine instructions per request, counted by valgrind's callgrind: the count does not move with
// what else the machine runs, so a build's cost can be read on a busy machine. Each server runs
// alone under callgrind with counting off; after the warm-up (JIT tiers, caches) counting is
// switched on for REQUESTS GET requests (8 at a time, keep-alive) and read from callgrind's
// dumps, per thread: the event loop's, and all threads (V8's compiler and GC helpers, libuv's
// pool). Not counted: time in the kernel (syscalls) and cache misses.
// What it showed while tuning otel: the minimal app repeats within 1-3 % run to run; a build
// whose hot code V8 keeps deoptimizing does not (±10 %: where the JIT settles varies), which is
// itself the finding. Timers run on wall time and valgrind runs node ~50 times slower, so work
// on a timer (an exporter's 5 s batch) weighs ~50 times more per request than in production:
// give such a build settings that make it work by count (OTEL_BSP_SCHEDULE_DELAY=3600000
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE=100). `--single-threaded` first in ARGS makes V8 compile and
// collect on the event loop, so all of it is in one count. Needs valgrind.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './interleaved.mjs';

const [requests, ...specs] = process.argv.slice(2);
const count = Number(requests);
const warmUp = Number(process.env.WARM_UP ?? Math.max(5000, count));

// Every server gets a loopback OTLP receiver that reads and drops what it is sent.
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
});
const sinkPort = await freePort();
await new Promise((r) => sink.listen(sinkPort, '127.0.0.1', r));
const baseEnv = {
  ...process.env,
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  WEB_CONCURRENCY: '1',
  RATE_LIMIT_MAX: '100000000',
  RATE_LIMIT_WINDOW_MS: '60000',
};

/** `n` GET requests to `url`, `concurrency` at a time on keep-alive connections. */
async function load(url, n, concurrency = 8) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      request(url, { agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`)),
        );
      })
        .on('error', reject)
        .end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await one();
    }),
  );
  agent.destroy();
}

/** Instructions per request of one server. */
async function measure(spec) {
  const label = spec.slice(0, spec.indexOf('='));
  const rest = spec.slice(spec.indexOf('=') + 1);
  const [dir, args = 'dist/main.js'] = rest.split(':');
  const words = args.split(' ').filter(Boolean);
  const isEnv = (w) => /^[A-Z_]+=/.test(w);
  const own = Object.fromEntries(
    words.filter(isEnv).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
  );
  const out = mkdtempSync(join(tmpdir(), 'cse-callgrind-'));
  const port = await freePort();
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(out, 'callgrind.out')}`,
      process.execPath,
      ...words.filter((w) => !isEnv(w)),
    ],
    {
      cwd: dir,
      env: { ...baseEnv, ...own, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 1200 || child.exitCode !== null)
        throw new Error(`${label} did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await load(`${url}/api/hello`, warmUp);
    // vgdb finds the process by a pipe named after $HOST, which the server's environment sets.
    const control = (...argv) =>
      execFileSync('callgrind_control', [...argv, String(child.pid)], {
        env: { ...process.env, HOST: baseEnv.HOST },
        stdio: 'ignore',
      });
    control('-i', 'on');
    await load(`${url}/api/hello`, count);
    control('-d');
    // One dump per thread (--separate-threads): thread 1 is the event loop's.
    let [all, main] = [0, 0];
    for (const file of readdirSync(out).filter((f) => /^callgrind\.out\..+/.test(f))) {
      const text = readFileSync(join(out, file), 'utf8');
      const total = Number(/^(?:summary|totals):\s*(\d+)/m.exec(text)?.[1] ?? 0);
      all += total;
      if (/^thread: 1$/m.test(text)) main = total;
    }
    if (!main) throw new Error(`${label}: no count in callgrind's dump`);
    return { label, all: all / count, main: main / count };
  } finally {
    child.kill('SIGKILL');
    if (!process.env.KEEP) rmSync(out, { recursive: true, force: true });
  }
}

try {
  const results = [];
  for (const spec of specs) {
    const r = await measure(spec);
    results.push(r);
    const [first] = results;
    const n = (x) => Math.round(x).toLocaleString('en').padStart(10);
    console.log(
      `${r.label.padEnd(18)} instructions/request: event loop ${n(r.main)} (${first.label}/this ${(first.main / r.main).toFixed(3)}×)   all threads ${n(r.all)} (${(first.all / r.all).toFixed(3)}×)`,
    );
  }
} finally {
  sink.close();
}
