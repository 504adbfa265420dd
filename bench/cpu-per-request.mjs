// node bench/cpu-per-request.mjs ROUNDS SECONDS 'label=DIR[:ARGS]' ... (ARGS: `dist/main.js` unless
// given; space-separated, NAME=value words first set that server's environment, the rest are node's
// argv, e.g. 'otel=/tmp/app:OTEL_TRACES_SAMPLER=always_on --import ./dist/features/otel/register.js
// dist/main.js'; the first server is the reference, such as a bare Express app). Every server gets
// OTEL_EXPORTER_OTLP_ENDPOINT of a loopback OTLP receiver run here, which reads and drops spans.
// Server CPU time per request is steadier than req/s on a busy shared machine. Starts every built
// app pinned to CPU 0 (a cluster's primary and workers too), then runs wrk pinned to CPU 1 against
// each in turn, round after round, so that noise hits all alike; per run it reads the user + system
// time of the server's process tree from /proc. Prints medians with the range. Linux, taskset, wrk.
// Also the ratio of the fastest rounds: other load on the machine only adds CPU per request
// (cache misses, migrations), so the minimum is the steadier estimate when the machine is busy.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';

const [rounds, seconds, ...specs] = process.argv.slice(2);
const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString());
const freePort = () =>
  new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });
function tree(pid) {
  const out = [pid];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const kids = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    if (kids) for (const k of kids.split(' ')) out.push(...tree(Number(k)));
  }
  return out;
}
function cpu(pid) {
  let sum = 0;
  for (const p of tree(pid)) {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    sum += Number(f[11]) + Number(f[12]);
  }
  return (sum / tick) * 1e6; // µs
}
const sink = createHttpServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
});
const sinkPort = await freePort();
await new Promise((r) => sink.listen(sinkPort, '127.0.0.1', r));
const env = {
  ...process.env,
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  WEB_CONCURRENCY: '1',
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_WINDOW_MS: '60000',
};
const servers = [];
for (const spec of specs) {
  const label = spec.slice(0, spec.indexOf('='));
  const rest = spec.slice(spec.indexOf('=') + 1);
  const [dir, args = 'dist/main.js'] = rest.split(':');
  const words = args.split(' ').filter(Boolean);
  const own = Object.fromEntries(
    words
      .filter((w) => /^[A-Z_]+=/.test(w))
      .map((w) => [w.split('=')[0], w.slice(w.indexOf('=') + 1)]),
  );
  const argv = words.filter((w) => !/^[A-Z_]+=/.test(w));
  const port = await freePort();
  const child = spawn('taskset', ['-c', '0', process.execPath, ...argv], {
    cwd: dir,
    env: { ...env, ...own, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  servers.push({ label, port, child, rps: [], us: [] });
}
for (const s of servers) {
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`http://127.0.0.1:${s.port}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
}
function wrk(port, secs) {
  const out = execFileSync('taskset', [
    '-c',
    '1',
    'wrk',
    '-t1',
    '-c50',
    `-d${secs}s`,
    `http://127.0.0.1:${port}/api/hello`,
  ]).toString();
  const reqs = Number(/(\d+) requests in/.exec(out)[1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  if (/Non-2xx/.test(out)) console.log('non-2xx!', out);
  return { reqs, rps };
}
for (const s of servers) wrk(s.port, 3); // warm-up
for (let r = 0; r < Number(rounds); r++) {
  for (const s of servers) {
    const pid = s.child.pid;
    const before = cpu(pid);
    const { reqs, rps } = wrk(s.port, seconds);
    const used = cpu(pid) - before;
    s.rps.push(rps);
    s.us.push(used / reqs);
  }
  process.stderr.write(`round ${r + 1} done\n`);
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bare = servers[0];
for (const s of servers) {
  const [lo, hi] = [Math.min(...s.us), Math.max(...s.us)];
  console.log(
    `${s.label.padEnd(18)} CPU/req ${med(s.us).toFixed(1).padStart(6)} µs (${lo.toFixed(1)}–${hi.toFixed(1)})  ` +
      `req/s ${Math.round(med(s.rps)).toString().padStart(6)} (${Math.round(Math.min(...s.rps))}–${Math.round(Math.max(...s.rps))})  ` +
      `bare/x CPU ${(med(bare.us) / med(s.us)).toFixed(2)}× (fastest rounds ${(Math.min(...bare.us) / lo).toFixed(2)}×)  req/s ${(med(s.rps) / med(bare.rps)).toFixed(2)}×`,
  );
}
for (const s of servers) s.child.kill('SIGTERM');
sink.close();
