/**
 * Runs the nginx or HAProxy config a project generated, on loopback, in front of app instances
 * started with startApp(). Compose-only details are rewritten, and nothing else:
 *
 * nginx (rewriteNginxConfig):
 *   1. each `server app:PORT <params> resolve;` line between `# BEGIN app servers` and
 *      `# END app servers` becomes one `server 127.0.0.1:<port> <params>;` line per instance
 *      (`resolve` dropped: Debian's nginx 1.22 predates it, and loopback ports need no DNS);
 *   2. `listen 8080` becomes `listen 127.0.0.1:<free port>`;
 *   3. each path in `/tmp/` (the compose service's tmpfs: pid file, temp paths) moves into
 *      `<temp>/tmpfs/`, which stands in for that tmpfs.
 *   nginx itself is started with `-p <temp> -e stderr` (and `daemon off;` when running).
 * HAProxy (rewriteHaproxyConfig):
 *   1. the `server-template app ... app:PORT ...` line between the same markers becomes one
 *      `server appN 127.0.0.1:<port>` line per instance (their check settings come from the
 *      generated `default-server` line, untouched);
 *   2. `bind :8080` becomes `bind 127.0.0.1:<free port>`.
 *
 * startNginx and startHaproxy run the proxy as its compose service does (see asInContainer): a
 * read-only filesystem but for the tmpfs stand-in and its own log files, an unprivileged user, no
 * capabilities, no-new-privileges.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { afterAll, expect } from 'vitest';
import { binaryPath } from './binaries.js';
import { mixedTraffic, type MixedTraffic } from './http-client.js';
import { waitFor } from './load.js';
import { freePort, waitForHttp } from './ports.js';
import { startApp, type Running } from './processes.js';

const BEGIN = '# BEGIN app servers';
const END = '# END app servers';

/**
 * Replaces the lines between the markers with `make(line)` per line, in every such block (one per
 * upstream: the load-shedding feature adds a second nginx upstream of the same instances).
 */
function replaceServerBlock(config: string, make: (line: string) => string[]): string {
  const lines = config.split('\n');
  const out: string[] = [];
  let blocks = 0;
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]!);
    if (lines[i]!.trim() !== BEGIN) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === END);
    if (end < 0) throw new Error(`"${BEGIN}" without "${END}"`);
    const block = lines.slice(i + 1, end).filter((l) => l.trim() && !l.trim().startsWith('#'));
    out.push(...block.flatMap(make));
    i = end - 1;
    blocks++;
  }
  if (blocks === 0) throw new Error(`the config must have a "${BEGIN}" … "${END}" block`);
  return out.join('\n');
}

function replaceOnce(text: string, pattern: RegExp, replacement: string): string {
  const matches = text.match(new RegExp(pattern.source, 'gm'));
  if (matches?.length !== 1) throw new Error(`expected exactly one match of ${pattern}`);
  return text.replace(new RegExp(pattern.source, 'm'), replacement);
}

export function rewriteNginxConfig(
  config: string,
  options: { listenPort: number; upstreamPorts: number[]; tempDir: string },
): string {
  let out = replaceServerBlock(config, (line) => {
    const match = /^(\s*)server\s+app:\d+\s+(.*?)\s*resolve\s*;\s*$/.exec(line);
    if (!match) throw new Error(`unexpected line in the app servers block: ${line}`);
    const [, indent, params] = match;
    return options.upstreamPorts.map((port) => `${indent}server 127.0.0.1:${port} ${params};`);
  });
  out = replaceOnce(out, /^(\s*)listen 8080\b/, `$1listen 127.0.0.1:${options.listenPort}`);
  if (!/ \/tmp\//.test(out)) throw new Error('the config writes nothing into /tmp');
  return out.replace(/ \/tmp\//g, ` ${tmpfsOf(options.tempDir)}/`);
}

/** The folder that stands in for the compose service's tmpfs at /tmp. */
export function tmpfsOf(tempDir: string): string {
  return join(tempDir, 'tmpfs');
}

/** Creates `dir` writable by anyone (mode 1777, as /tmp), and returns it. */
export function worldWritable(dir: string): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o1777);
  return dir;
}

/**
 * Lets any user pass through `dir` and its parents inside the temp folder (mkdtemp makes them
 * 0700), so that `nobody` reaches the config and the tmpfs stand-in; listing stays private.
 */
function searchableByAll(dir: string): void {
  for (let path = resolvePath(dir); path.startsWith(`${tmpdir()}/`); path = dirname(path))
    chmodSync(path, statSync(path).mode | 0o001);
}

/** The uid and gid of `nobody`: the unprivileged user the proxies run as (the images' own). */
const NOBODY = 65534;

/**
 * The command line that runs `file args` as the compose service runs the proxy (read_only: true,
 * tmpfs, cap_drop: [ALL], no-new-privileges, a non-root user): in a mount namespace of its own
 * where / and /dev/shm are read-only and only `writable` (the tmpfs stand-in, the log files) are
 * bind-mounted writable, as `nobody`, with no capability in any set and no-new-privs. Needs
 * root (util-linux's unshare and setpriv), as the tests have in CI.
 */
export function asInContainer(file: string, args: string[], writable: string[]): string[] {
  const script = [
    'n=$1; shift',
    'while [ "$n" -gt 0 ]; do mount --bind "$1" "$1" || exit 97; shift; n=$((n - 1)); done',
    'mount -o remount,bind,ro / && mount -o remount,bind,ro /dev/shm || exit 97',
    `exec setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs "$@"`,
  ].join('\n');
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    script,
    'sh',
    String(writable.length),
    ...writable,
    file,
    ...args,
  ];
}

export function rewriteHaproxyConfig(
  config: string,
  options: { listenPort: number; upstreamPorts: number[] },
): string {
  const out = replaceServerBlock(config, (line) => {
    const match = /^(\s*)server-template\s+app\s+\S+\s+app:\d+\b/.exec(line);
    if (!match) throw new Error(`unexpected line in the app servers block: ${line}`);
    return options.upstreamPorts.map(
      (port, i) => `${match[1]}server app${i + 1} 127.0.0.1:${port}`,
    );
  });
  return replaceOnce(out, /^(\s*)bind :8080$/, `$1bind 127.0.0.1:${options.listenPort}`);
}

/** What both proxies' compose services must have: the hardening of the app's service. */
export function hardenedProxy(user: string): Record<string, unknown> {
  return {
    user,
    read_only: true,
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    deploy: {
      resources: {
        limits: { cpus: expect.any(String), memory: expect.stringMatching(/^\d+M$/) },
      },
    },
  };
}

/**
 * The exit code of `docker-compose config` (Debian's 1.29, a client: no engine needed) in `dir`,
 * which resolves and checks the file as `docker compose up` would; its output on failure.
 */
export async function composeConfig(dir: string): Promise<number> {
  const result = await runToEnd(
    binaryPath('docker-compose') ?? 'docker-compose',
    ['--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), 'config', '-q'],
    join(dir, '.compose-config.log'),
  );
  if (result.exitCode !== 0) console.error(result.output);
  return result.exitCode;
}

/** Lines of `after` that are not in `before`, and lines of `before` that are not in `after`. */
export function lineChanges(before: string, after: string): { added: string[]; removed: string[] } {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  return {
    added: [...b].filter((l) => !a.has(l)),
    removed: [...a].filter((l) => !b.has(l)),
  };
}

export interface CheckResult {
  exitCode: number;
  output: string;
}

/** A folder for one nginx run: prefix, temp paths, pid file (workers may run as another user). */
function nginxDir(tempDir: string): string {
  worldWritable(tmpfsOf(tempDir));
  chmodSync(tempDir, 0o755);
  return tempDir;
}

/** Runs a command to its end with stdout and stderr in a file (see runProxy for why). */
function runToEnd(file: string, args: string[], logFile: string): Promise<CheckResult> {
  const fd = openSync(logFile, 'w');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return new Promise((resolve) => {
    const done = (exitCode: number): void =>
      resolve({ exitCode, output: readFileSync(logFile, 'utf8') });
    child.once('exit', (code) => done(code ?? -1));
    child.once('error', () => done(-1));
  });
}

export function nginxTest(configFile: string, tempDir: string): Promise<CheckResult> {
  const dir = nginxDir(tempDir);
  // A config without its own pid file gets one in the temp folder (the default is a system path).
  const pid = /^pid /m.test(readFileSync(configFile, 'utf8'))
    ? []
    : ['-g', `pid ${join(dir, 'nginx.pid')};`];
  return runToEnd(
    'nginx',
    ['-t', '-p', dir, '-c', configFile, '-e', 'stderr', ...pid],
    `${configFile}.test.log`,
  );
}

export function haproxyCheck(configFile: string): Promise<CheckResult> {
  return runToEnd('haproxy', ['-c', '-f', configFile], `${configFile}.check.log`);
}

export interface RunningProxy extends Running {
  /** The rewritten config the proxy runs. */
  config: string;
}

const proxies = new Set<RunningProxy>();
// Every proxy is stopped when the test file ends (nginx workers outlive a SIGKILLed master, so
// stop() also kills the workers it saw).
afterAll(async () => {
  await Promise.all([...proxies].map((p) => p.stop().catch(() => undefined)));
});

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts a proxy in the foreground. Its stdout and stderr are files, not pipes: Node's pipes are
 * sockets, which nginx cannot open as /dev/stdout (the access log of the generated config).
 */
export async function runProxy(
  file: string,
  args: string[],
  options: {
    port: number;
    healthPath: string;
    config: string;
    logDir: string;
    /** Run asInContainer with this tmpfs stand-in, else as the test's own user. */
    tmpfs?: string;
  },
): Promise<RunningProxy> {
  const out = join(options.logDir, `${file}.out.log`);
  const err = join(options.logDir, `${file}.err.log`);
  const fds = [openSync(out, 'a'), openSync(err, 'a')] as const;
  let argv = [file, ...args];
  if (options.tmpfs !== undefined) {
    // Like a tmpfs (mode 1777); the log files are the proxy's stdout and stderr, which nginx
    // opens again by name (/dev/stdout), as `nobody`.
    worldWritable(options.tmpfs);
    searchableByAll(options.logDir);
    [out, err].forEach((f) => chmodSync(f, 0o666));
    argv = asInContainer(file, args, [options.tmpfs, out, err]);
  }
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fds[0], fds[1]] });
  fds.forEach((fd) => closeSync(fd));
  const exited = new Promise<number | undefined>((resolve) => {
    child.once('exit', (code) => resolve(code ?? undefined));
    child.once('error', () => resolve(undefined));
  });
  const output = (): string =>
    [out, err].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('');
  const url = `http://127.0.0.1:${options.port}`;
  try {
    // A proxy that exits at start (a config error) fails at once, with its output.
    const early = exited.then((code) => {
      throw new Error(`${file} exited with code ${String(code)} at start`);
    });
    await Promise.race([waitForHttp(`${url}${options.healthPath}`, 10_000), early]);
    early.catch(() => undefined);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${(error as Error).message}\n${output()}`, { cause: error });
  }
  const pid = child.pid ?? -1;
  const proxy: RunningProxy = {
    port: options.port,
    url,
    pid,
    config: options.config,
    output,
    async stop(signal = 'SIGTERM') {
      proxies.delete(proxy);
      const workers = childPids(pid);
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      for (const worker of workers) {
        try {
          process.kill(worker, 'SIGKILL');
        } catch {
          // already gone, as it should be
        }
      }
      return code;
    },
  };
  proxies.add(proxy);
  return proxy;
}

/**
 * Runs the project's nginx/nginx.conf (rewritten as above, then by `edit` if given: a test's
 * deliberate change) in front of the given app ports.
 */
export async function startNginx(
  projectDir: string,
  upstreamPorts: number[],
  tempDir: string,
  edit: (config: string) => string = (config) => config,
): Promise<RunningProxy> {
  const dir = nginxDir(tempDir);
  const port = await freePort();
  const generated = readFileSync(join(projectDir, 'nginx/nginx.conf'), 'utf8');
  const config = edit(
    rewriteNginxConfig(generated, { listenPort: port, upstreamPorts, tempDir: dir }),
  );
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config, { mode: 0o444 });
  const args = ['-p', dir, '-c', file, '-e', 'stderr', '-g', 'daemon off;'];
  return runProxy('nginx', args, {
    port,
    healthPath: '/nginx-health',
    config,
    logDir: dir,
    tmpfs: tmpfsOf(dir),
  });
}

/** Runs the project's haproxy/haproxy.cfg (rewritten as above, then by `edit`) likewise. */
export async function startHaproxy(
  projectDir: string,
  upstreamPorts: number[],
  tempDir: string,
  edit: (config: string) => string = (config) => config,
): Promise<RunningProxy> {
  mkdirSync(tempDir, { recursive: true });
  const port = await freePort();
  const generated = readFileSync(join(projectDir, 'haproxy/haproxy.cfg'), 'utf8');
  const config = edit(rewriteHaproxyConfig(generated, { listenPort: port, upstreamPorts }));
  const file = join(tempDir, 'haproxy.cfg');
  writeFileSync(file, config, { mode: 0o444 });
  // The image's command: master-worker (-W), foreground (-db). HAProxy writes no file, so the
  // tmpfs stand-in is only there to show that (it stays empty).
  return runProxy('haproxy', ['-W', '-db', '-f', file], {
    port,
    healthPath: '/haproxy-health',
    config,
    logDir: tempDir,
    tmpfs: tmpfsOf(tempDir),
  });
}

/** What processPrivileges reports for a proxy run as its hardened compose service. */
export const asContainerPrivileges = {
  uid: String(NOBODY),
  effectiveCaps: '0000000000000000',
  boundingCaps: '0000000000000000',
  noNewPrivs: '1',
};

/** What the kernel says of each process of a running proxy (master and workers). */
export function processPrivileges(
  proxy: RunningProxy,
): { uid: string; effectiveCaps: string; boundingCaps: string; noNewPrivs: string }[] {
  return [proxy.pid, ...childPids(proxy.pid)].map((pid) => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): string =>
      new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(status)?.[1] ?? '?';
    return {
      uid: field('Uid'),
      effectiveCaps: field('CapEff'),
      boundingCaps: field('CapBnd'),
      noNewPrivs: field('NoNewPrivs'),
    };
  });
}

/** The socket inodes a process holds open (from its /proc/<pid>/fd links). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/**
 * The proxy's open (ESTABLISHED) TCP connections to a loopback port, from /proc/net/tcp and the
 * proxy's own file descriptors (master and workers): after every response is complete, those to an
 * app port are idle keep-alive connections the proxy kept for reuse.
 */
export function proxyConnectionsTo(proxy: RunningProxy, port: number): number {
  const owned = new Set([proxy.pid, ...childPids(proxy.pid)].flatMap((p) => [...socketInodes(p)]));
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(
      (cols) => cols[2]?.endsWith(`:${hexPort}`) && cols[3] === '01' && owned.has(cols[9] ?? ''),
    ).length;
}

/**
 * A rolling restart, as a deploy does it: `rounds` times, one instance after the other gets
 * SIGTERM, must exit 0, is started again on the same port (`restart`), and the next round waits
 * until the proxy sends the new process traffic again (`servedBy`, up to `rejoinMs`).
 */
export async function rollingRestart(
  apps: Running[],
  restart: (port: number) => Promise<Running>,
  servedBy: ReadonlyMap<number, number>,
  { rounds = 3, rejoinMs = 40_000 } = {},
): Promise<{ exitCodes: (number | undefined)[]; rejoined: boolean[] }> {
  const exitCodes: (number | undefined)[] = [];
  const rejoined: boolean[] = [];
  for (let round = 0; round < rounds; round++) {
    const index = round % apps.length;
    const victim = apps[index]!;
    exitCodes.push(await victim.stop('SIGTERM'));
    const fresh = await restart(victim.port);
    apps[index] = fresh;
    const deadline = Date.now() + rejoinMs;
    while ((servedBy.get(fresh.pid) ?? 0) < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    rejoined.push((servedBy.get(fresh.pid) ?? 0) >= 3);
  }
  return { exitCodes, rejoined };
}

/**
 * The rolling-restart scenario of the proxy tests: two instances of the project in `dir` behind
 * the proxy `start` runs, steady GET and POST traffic (mixedTraffic) until every instance served,
 * three rolling restarts, then traffic, proxy and instances stopped. Returns what a test asserts
 * on; the proxy's output() stays readable after it stopped.
 */
export async function rollingRestartBehind(
  dir: string,
  start: (ports: number[]) => Promise<RunningProxy>,
): Promise<{
  bothServed: boolean;
  restarts: Awaited<ReturnType<typeof rollingRestart>>;
  traffic: MixedTraffic;
  proxy: RunningProxy;
}> {
  const env = { TRUST_PROXY: '1', PROXY_WHOAMI: 'true' };
  const pair = [await startApp(dir, env), await startApp(dir, env)];
  const proxy = await start(pair.map((a) => a.port));
  const traffic = mixedTraffic(proxy.url, { clients: 8, pauseMs: 2 });
  try {
    const bothServed = await waitFor(() => pair.every((a) => traffic.servedBy.has(a.pid)), 20_000);
    const restarts = await rollingRestart(
      pair,
      (port) => startApp(dir, { ...env, PORT: String(port) }),
      traffic.servedBy,
    );
    return { bothServed, restarts, traffic, proxy };
  } finally {
    await traffic.stop();
    await proxy.stop();
    await Promise.all(pair.map((a) => a.stop('SIGKILL')));
  }
}

export interface TinyUpstream {
  port: number;
  /** The request headers of every request received, in order. */
  seen: { url: string; headers: Record<string, string | string[] | undefined> }[];
  /** Requests to /slow still waiting for release(). */
  held(): number;
  /** Lets every held /slow request finish. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A stand-in app on a free loopback port, for what the generated app has no route for: answers
 * its `name` at once, holds GET /slow until release(), and echoes WebSocket text messages (the
 * handshake of RFC 6455 and single unfragmented frames under 126 bytes, enough for a test).
 */
export async function startTinyUpstream(name: string): Promise<TinyUpstream> {
  const seen: TinyUpstream['seen'] = [];
  const waiting: (() => void)[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const answer = (): void => {
      res.setHeader('Content-Type', 'text/plain');
      res.end(name);
    };
    if (req.url === '/slow') waiting.push(answer);
    else answer();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.on('data', (frame: Buffer) => {
      const opcode = (frame[0] ?? 0) & 0x0f;
      const length = (frame[1] ?? 0) & 0x7f;
      if (opcode !== 1 || length > 125) return void socket.end();
      const mask = frame.subarray(2, 6);
      const text = Buffer.from(frame.subarray(6, 6 + length).map((b, i) => b ^ (mask[i % 4] ?? 0)));
      const reply = Buffer.concat([Buffer.from(`${name}:`), text]);
      socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    seen,
    held: () => waiting.length,
    release: () => waiting.splice(0).forEach((answer) => answer()),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
