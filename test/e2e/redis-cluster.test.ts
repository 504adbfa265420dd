import { execa } from 'execa';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { hasBinary } from '../helpers/binaries.js';
import { freePort } from '../helpers/ports.js';
import { spawnTracked, startApp, type Running } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The redis feature on a real Redis Cluster: three masters (no replicas) started here with
 * `redis-server --cluster-enabled yes` and joined by `redis-cli --cluster create`, one project
 * generated with `--features redis,rate-limit` (full test-build), its built app booted with
 * REDIS_CLUSTER_NODES. Then one master is killed (its slots have no replica: they fail) and
 * restarted (the cluster heals). The same project then runs on Sentinel (one master, one
 * sentinel): cache in the master, the master killed and restarted.
 */

/**
 * How long the masters wait before marking a silent master failed (the default is 15 s): short,
 * so that the whole cluster reports the failure during the test.
 */
const NODE_TIMEOUT_MS = 2000;

interface Node {
  port: number;
  busPort: number;
  stop(): Promise<void>;
}

/** Starts a redis-server process, waiting for `readyLine` in its output. */
async function startServer(args: string[], readyLine: string): Promise<() => Promise<void>> {
  const { child, output } = spawnTracked('redis-server', args);
  const deadline = Date.now() + 10_000;
  while (!output().includes(readyLine)) {
    if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${output()}`);
    await sleep(50);
  }
  return async () => {
    child.kill('SIGKILL');
    await child;
  };
}

async function startNode(dir: string, port: number, busPort: number): Promise<Node> {
  const stop = await startServer(
    [
      ...['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1'],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
      ...['--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--dir', dir],
      ...['--save', '', '--appendonly', 'no'],
    ],
    'Ready to accept connections',
  );
  return { port, busPort, stop };
}

/** A plain Redis server (a Sentinel-watched master) on `port`. */
function startMaster(port: number): Promise<() => Promise<void>> {
  return startServer(
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    'Ready to accept connections',
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function redisCli(port: number, ...args: string[]): Promise<string> {
  return (await execa('redis-cli', ['-p', String(port), ...args])).stdout;
}

/** Waits until every given node says the cluster serves all its slots. */
async function clusterOk(nodes: Node[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const node of nodes) {
    while (!(await redisCli(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) {
      if (Date.now() > deadline) throw new Error(`cluster not ok on ${node.port}`);
      await sleep(100);
    }
  }
}

/** This node's own keys (KEYS without -c answers for one node only). */
async function keysOn(node: Node, pattern: string): Promise<string[]> {
  return (await redisCli(node.port, '--raw', 'KEYS', pattern)).split('\n').filter(Boolean);
}

interface Answer {
  status: number;
  cache: string | null;
  remaining: number | undefined;
  ms: number;
}

/** A GET as the client `ip` (the app trusts one proxy: X-Forwarded-For names the client). */
async function get(app: Running, path: string, ip: string): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${app.url}${path}`, { headers: { 'X-Forwarded-For': ip } });
  await res.arrayBuffer();
  const remaining = /r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1];
  return {
    status: res.status,
    cache: res.headers.get('x-cache'),
    remaining: remaining === undefined ? undefined : Number(remaining),
    ms: performance.now() - started,
  };
}

async function readyz(app: Running): Promise<unknown> {
  return (await fetch(`${app.url}/readyz`)).json();
}

/** Polls until `check` passes (then returns its value) or 20 s pass. */
async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  let last = await read();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(last)}`);
    await sleep(100);
    last = await read();
  }
  return last;
}

let clientCount = 0;
/** A new client address: its own rate-limit budget. */
const newClient = () => `10.0.${Math.floor(++clientCount / 250)}.${clientCount % 250}`;

const LIMIT = 5;

describe.skipIf(!hasBinary('redis-server'))('redis feature on a Redis Cluster (3 masters)', () => {
  const nodes: Node[] = [];
  const apps: Running[] = [];
  let dir: string;
  let clusterDir: string;
  let nodesEnv: string;
  /** Which master holds which /api/slow cache key, before the kill. */
  const keysByNode = new Map<Node, string[]>();

  beforeAll(async () => {
    // The project first: no Redis process idles through the install.
    const project = await generateBuilt(tempDir(), 'cache-app', ['--features', 'redis,rate-limit']);
    dir = project.dir;
    clusterDir = tempDir('cse-rcluster-');
    for (let i = 0; i < 3; i++)
      nodes.push(await startNode(clusterDir, await freePort(), await freePort()));
    await execa('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-yes',
    ]);
    await clusterOk(nodes);
    nodesEnv = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');

    const env = {
      REDIS_CLUSTER_NODES: nodesEnv,
      RATE_LIMIT_MAX: String(LIMIT),
      TRUST_PROXY: '1',
      LOG_LEVEL: 'info',
    };
    apps.push(await startApp(dir, env), await startApp(dir, env));
    for (const app of apps)
      await eventually(
        () => readyz(app),
        (r) => JSON.stringify(r).includes('"redis":"ok"'),
      );
  });

  /** Sentinel's servers, stopped with the rest. */
  const stops: (() => Promise<void>)[] = [];

  afterAll(async () => {
    for (const app of apps) await app.stop('SIGKILL').catch(() => undefined);
    for (const node of nodes) await node.stop().catch(() => undefined);
    for (const stop of stops) await stop().catch(() => undefined);
  });

  it('documents the three ways to reach Redis', async () => {
    const env = await readFile(join(dir, '.env.example'), 'utf8');
    for (const name of [
      'REDIS_URL',
      'REDIS_CLUSTER_NODES',
      'REDIS_SENTINELS',
      'REDIS_SENTINEL_MASTER',
    ])
      expect(env).toContain(`\n# ${name}=`);
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('REDIS_CLUSTER_NODES=redis-1:6379');
  });

  it('refuses two ways to reach Redis at once with one line and exit 1', async () => {
    const result = await execa(process.execPath, ['dist/main.js'], {
      cwd: dir,
      env: {
        NODE_ENV: 'production',
        PORT: String(await freePort()),
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_CLUSTER_NODES: nodesEnv,
      },
      reject: false,
      timeout: 30_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'Invalid configuration: set only one of REDIS_URL, REDIS_CLUSTER_NODES: they are three ways to reach Redis',
    ]);
  });

  it('caches on every master, shared by two instances, and counts one rate-limit budget across them', async () => {
    const [a, b] = apps as [Running, Running];
    for (let n = 1; n <= 6; n++) {
      expect((await get(a, `/api/slow?n=${n}`, newClient())).cache).toBe('MISS');
      expect((await get(b, `/api/slow?n=${n}`, newClient())).cache).toBe('HIT');
    }
    // The keys are spread over the masters by slot: each master holds some.
    for (const node of nodes) keysByNode.set(node, await keysOn(node, 'cache-app:fn:slow:*'));
    const counts = nodes.map((node) => keysByNode.get(node)?.length ?? 0);
    expect(counts.reduce((x, y) => x + y)).toBe(6);
    expect(counts.every((count) => count > 0)).toBe(true);

    // One client alternating between the two instances spends one budget.
    const limited = newClient();
    const answers: Answer[] = [];
    for (let i = 0; i < LIMIT + 1; i++)
      answers.push(await get(i % 2 ? b : a, '/api/hello', limited));
    expect(answers.map((r) => r.status)).toEqual([...Array<number>(LIMIT).fill(200), 429]);
    expect(answers.slice(0, LIMIT).map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0]);
  });

  it('keeps answering when a master dies (no replica), within a bounded time, then heals by itself', async () => {
    const [a] = apps as [Running, Running];
    onTestFailed(() => console.log(a.output()));
    const victim = nodes[2]!;
    const lost = keysByNode.get(victim) ?? [];
    const lostN = Number(lost[0]?.split(':').pop());
    await victim.stop();

    // Requests on a cached key of every master, until the others have marked the dead one
    // failed (NODE_TIMEOUT_MS) and some more: a cluster with an uncovered slot refuses all keys.
    const answers: Answer[] = [];
    const until = Date.now() + NODE_TIMEOUT_MS * 2 + 1000;
    while (Date.now() < until) {
      for (let n = 1; n <= 6; n++) answers.push(await get(a, `/api/slow?n=${n}`, newClient()));
    }
    expect(answers.filter((r) => r.status !== 200)).toEqual([]);
    /** By now every live master refuses all keys (CLUSTERDOWN), though they answer PING. */
    const refusingSince = a.output().length;
    // A miss runs the handler (300 ms); each Redis command is bounded by 250 ms and, with the
    // node gone, fails at once. 3 s is far above that even on a busy 2-core machine, and far
    // below a request waiting on a dead node's connection.
    expect(Math.max(...answers.map((r) => r.ms))).toBeLessThan(3000);
    expect(await readyz(a)).toEqual({ status: 'degraded', checks: { redis: 'degraded' } });
    // The limiter fails open to its documented policy: counted by this instance meanwhile.
    const limited = newClient();
    const local = [];
    for (let i = 0; i < LIMIT + 1; i++) local.push((await get(a, '/api/hello', limited)).status);
    expect(local).toEqual([...Array<number>(LIMIT).fill(200), 429]);
    expect(a.output()).toContain('counting locally');
    // The breaker stays open while the cluster refuses keys: its probe asks for cluster_state,
    // so it does not close (and reopen) every probe interval (500 ms) as a PING probe would.
    await sleep(1500);
    expect(a.output().slice(refusingSince)).not.toContain('circuit closed');

    // With full coverage off (the README's advice for a cache) the live masters serve their own
    // slots again: the breaker closes on their cluster_state and their keys are hits, while the
    // dead master's keys stay misses. (A probe that must reach every master would stay open.)
    const live = nodes.slice(0, 2);
    for (const node of live) {
      await redisCli(node.port, 'CONFIG', 'SET', 'cluster-require-full-coverage', 'no');
    }
    await clusterOk(live);
    const kept = Number(keysByNode.get(nodes[0]!)?.[0]?.split(':').pop());
    await eventually(
      () => get(a, `/api/slow?n=${kept}`, newClient()),
      (r) => r.cache === 'HIT',
    );
    expect((await get(a, `/api/slow?n=${lostN}`, newClient())).cache).toBe('MISS');

    // Restarted with its nodes.conf: it rejoins as the owner of its slots.
    nodes[2] = await startNode(clusterDir, victim.port, victim.busPort);
    await clusterOk(nodes);
    await eventually(
      () => readyz(a),
      (r) => JSON.stringify(r).includes('"redis":"ok"'),
    );
    // Its keys were lost with it (no persistence): a miss, then cached on it again.
    expect((await get(a, `/api/slow?n=${lostN}`, newClient())).cache).toBe('MISS');
    expect((await get(a, `/api/slow?n=${lostN}`, newClient())).cache).toBe('HIT');
    expect(await keysOn(nodes[2]!, `cache-app:fn:slow:${lostN}`)).toEqual([lost[0]]);
    expect(a.output()).toContain('circuit closed');
    // Still the same process, and it closes its cluster connections within the drain deadline.
    expect(await a.stop()).toBe(0);
    expect(await apps[1]!.stop()).toBe(0);
  });

  it('with Sentinel: finds the master, caches in it, survives its death and follows it back', async () => {
    const masterPort = await freePort();
    const sentinelPort = await freePort();
    let stopMaster = await startMaster(masterPort);
    stops.push(() => stopMaster());
    // Sentinel rewrites its config file: one of its own in the temp folder.
    const conf = join(clusterDir, 'sentinel.conf');
    await writeFile(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`,
        'sentinel down-after-milliseconds mymaster 2000',
        '',
      ].join('\n'),
    );
    stops.push(await startServer([conf, '--sentinel'], '+monitor master mymaster'));
    const app = await startApp(dir, {
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_MASTER: 'mymaster',
      TRUST_PROXY: '1',
      LOG_LEVEL: 'info',
    });
    apps.push(app);
    onTestFailed(() => console.log(app.output()));
    await eventually(
      () => readyz(app),
      (r) => JSON.stringify(r).includes('"redis":"ok"'),
    );
    expect((await get(app, '/api/slow?n=1', newClient())).cache).toBe('MISS');
    expect((await get(app, '/api/slow?n=1', newClient())).cache).toBe('HIT');
    const master: Node = { port: masterPort, busPort: 0, stop: () => stopMaster() };
    expect(await keysOn(master, 'cache-app:fn:*')).toEqual(['cache-app:fn:slow:1']);

    await stopMaster();
    const answers: Answer[] = [];
    for (let i = 0; i < 10; i++) answers.push(await get(app, '/api/slow?n=2', newClient()));
    expect(answers.filter((r) => r.status !== 200)).toEqual([]);
    // The first requests each wait for a few command timeouts (250 ms), until the breaker opens.
    expect(Math.max(...answers.map((r) => r.ms))).toBeLessThan(3000);
    expect(await readyz(app)).toEqual({ status: 'degraded', checks: { redis: 'degraded' } });

    stopMaster = await startMaster(masterPort);
    await eventually(
      () => readyz(app),
      (r) => JSON.stringify(r).includes('"redis":"ok"'),
    );
    expect((await get(app, '/api/slow?n=3', newClient())).cache).toBe('MISS');
    expect((await get(app, '/api/slow?n=3', newClient())).cache).toBe('HIT');
    // node-redis's Sentinel client holds commands while the master is away and sends them once
    // it is back (the requests stopped waiting at the command timeout): a late write may land.
    expect(await keysOn(master, 'cache-app:fn:*')).toContain('cache-app:fn:slow:3');
    expect(await app.stop()).toBe(0);
  });
});
