// Throughput of several HTTP servers measured side by side, the way a busy shared machine allows:
// every server runs at once, pinned to CPU 0 (a cluster's workers too), and wrk, pinned to CPU 1,
// loads each in turn, round after round, so that noise hits all of them alike. Per run it reads
// the user + system time of the server's whole process tree from /proc: server CPU time per
// request is steadier than req/s when other work shares the machine. Linux, taskset and wrk.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString());

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** `pid` and all its descendants. */
function processTree(pid) {
  const out = [pid];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (kids) for (const kid of kids.split(' ')) out.push(...processTree(Number(kid)));
  }
  return out;
}

/** CPU time (user + system) used so far by `pid`'s process tree, in µs. */
function cpuMicros(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks / tick) * 1e6;
}

/** True when this machine can measure this way (two CPUs, taskset, wrk). */
export function canInterleave() {
  const pin = spawnSync('taskset', ['-c', '1', 'true']);
  const load = spawnSync('wrk', ['--version']);
  return pin.status === 0 && load.error === undefined;
}

/**
 * Starts `node ...argv` in `cwd` pinned to CPU 0 on a free port and waits for /healthz:
 * { label, port, child, path }. `path` is the URL path loaded (GET).
 */
export async function startPinned(label, cwd, argv, env, path = '/api/hello') {
  const port = await freePort();
  const child = spawn('taskset', ['-c', '0', process.execPath, ...argv], {
    cwd,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { label, port, child, path, rps: [], us: [] };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${label} did not answer /healthz: see its output above`);
}

/** One wrk run (1 thread, 50 connections) pinned to CPU 1: { reqs, rps }. */
function wrk(port, path, seconds) {
  const out = execFileSync('taskset', [
    '-c',
    '1',
    'wrk',
    '-t1',
    '-c50',
    `-d${seconds}s`,
    `http://127.0.0.1:${port}${path}`,
  ]).toString();
  if (/Non-2xx|Socket errors/.test(out)) console.log(`  (wrk on port ${port}: ${out.trim()})`);
  return {
    reqs: Number(/(\d+) requests in/.exec(out)[1]),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]),
  };
}

/**
 * A warm-up run for each server, then `rounds` rounds of one `seconds`-long run per server;
 * fills each server's `rps` and `us` (server CPU µs per request) lists.
 */
export function interleave(servers, rounds, seconds, onRound = () => undefined) {
  for (const s of servers) wrk(s.port, s.path, Math.min(3, seconds));
  for (let r = 0; r < rounds; r++) {
    for (const s of servers) {
      const before = cpuMicros(s.child.pid);
      const { reqs, rps } = wrk(s.port, s.path, seconds);
      s.rps.push(rps);
      s.us.push((cpuMicros(s.child.pid) - before) / reqs);
    }
    onRound(r + 1);
  }
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Stops every server and waits for it to exit. */
export async function stopAll(servers) {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise((resolve) => {
          if (s.child.exitCode !== null) return resolve();
          s.child.once('exit', resolve);
          s.child.kill('SIGTERM');
        }),
    ),
  );
}
