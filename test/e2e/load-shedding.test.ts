import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasBinary } from '../helpers/binaries.js';
import { mixedTraffic, send } from '../helpers/http-client.js';
import { startApp, type Running } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import { startNginx } from '../helpers/proxies.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The test's own entry point, written into the generated project (nothing generated has it): the
 * built app plus GET /block?ms=N, which blocks the event loop for N ms inside its handler (as a
 * CPU-heavy request does) and then answers, and GET /ping, a cheap route. /block is set up before
 * every feature, so it is never shed itself; /ping after them, like any route of the app.
 */
const HARNESS = `import { loadConfig } from './dist/config.js';
import { createContext } from './dist/context.js';
import { features } from './dist/features/index.js';
import { serve } from './dist/server.js';

const blocker = {
  name: 'blocker',
  setup(app) {
    app.get('/block', (req, res) => {
      const ms = Number(req.query.ms);
      const end = Date.now() + ms;
      while (Date.now() < end);
      res.json({ blocked: ms });
    });
  },
};
const ping = {
  name: 'ping',
  setup(app) {
    app.get('/ping', (_req, res) => {
      res.json({ pid: process.pid });
    });
  },
};
const all = [blocker, ...features, ping];
await serve(createContext(loadConfig(), all), all);
`;

const TOKEN = 'load-shedding-e2e-scrape-token';
const DELAY_BUDGET_MS = 100;
const BLOCK_MS = 400;
/** Shedding on with a 100 ms budget, sampled every 25 ms. */
const shedding = {
  SHED_MAX_EVENT_LOOP_DELAY_MS: String(DELAY_BUDGET_MS),
  SHED_SAMPLE_INTERVAL_MS: '25',
  METRICS_TOKEN: TOKEN,
};
/** The same app with every check off: it never sheds. */
const notShedding = {
  SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
  SHED_MAX_HEAP_USED_RATIO: '0',
  METRICS_TOKEN: TOKEN,
};

interface Answer {
  status: number;
  /** When the request was sent and answered (ms, performance.now()). */
  sentAt: number;
  doneAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `loops` clients send GET /ping one after the other (with a short pause, so that a blocked loop
 * holds a real share of the requests) while `bursts` times a request to /block blocks the app's
 * event loop for BLOCK_MS, a pause apart. Returns every answer and when each burst ended.
 */
async function pingDuringBursts(
  app: Running,
  { loops = 8, bursts = 4, pauseMs = 10, betweenMs = 600 } = {},
): Promise<{ answers: Answer[]; burstEnds: number[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: loops });
  const answers: Answer[] = [];
  const burstEnds: number[] = [];
  let stop = false;
  const clients = Array.from({ length: loops }, async () => {
    while (!stop) {
      const sentAt = performance.now();
      const { status } = await send(`${app.url}/ping`, { agent, timeoutMs: 10_000 });
      answers.push({ status, sentAt, doneAt: performance.now() });
      await sleep(pauseMs);
    }
  });
  await sleep(300);
  for (let i = 0; i < bursts; i++) {
    await send(`${app.url}/block?ms=${BLOCK_MS}`, { timeoutMs: 10_000 });
    burstEnds.push(performance.now());
    await sleep(betweenMs);
  }
  stop = true;
  await Promise.all(clients);
  agent.destroy();
  return { answers, burstEnds };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const latencies = (answers: Answer[], status: number) =>
  answers.filter((a) => a.status === status).map((a) => a.doneAt - a.sentAt);

/** The app's count of shed requests, from its /metrics. */
async function shedCount(app: Running): Promise<number> {
  const reply = await send(`${app.url}/metrics`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  const line = /^load_shedding_shed_requests_total (\d+)/m.exec(reply.body.toString());
  return Number(line?.[1] ?? NaN);
}

describe.skipIf(!hasBinary('nginx'))('load-shedding feature', () => {
  const parent = tempDir();
  let dir: string;

  beforeAll(async () => {
    ({ dir } = await generateBuilt(parent, 'shed', ['--features', 'load-shedding,nginx,metrics']));
    writeFileSync(join(dir, 'shed-harness.mjs'), HARNESS);
  }, 600_000);

  it('sheds within a second of a blocked event loop and keeps accepted requests fast, unlike the same app without it', async () => {
    const on = await startApp(dir, shedding, ['shed-harness.mjs']);
    const off = await startApp(dir, notShedding, ['shed-harness.mjs']);
    const withShedding = await pingDuringBursts(on);
    const without = await pingDuringBursts(off);

    const shed = withShedding.answers.filter((a) => a.status === 503);
    const firstShed = Math.min(...shed.map((a) => a.doneAt));
    const accepted = latencies(withShedding.answers, 200);
    const unprotected = latencies(without.answers, 200);
    const summary = {
      shed: shed.length,
      accepted: accepted.length,
      firstShedAfterBurstMs: Math.round(firstShed - (withShedding.burstEnds[0] ?? 0)),
      p99AcceptedMs: Math.round(percentile(accepted, 99)),
      p99WithoutSheddingMs: Math.round(percentile(unprotected, 99)),
    };

    // Every answer is a 200 or a shed 503, and the app's counter saw each 503.
    expect(withShedding.answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    expect(shed.length, JSON.stringify(summary)).toBeGreaterThan(0);
    expect(await shedCount(on)).toBe(shed.length);
    // 503s come with the first burst: the sampler runs right after a blocking task ends.
    expect(summary.firstShedAfterBurstMs, JSON.stringify(summary)).toBeLessThan(1_000);
    // Without shedding, the requests that arrived during a burst waited it out: its p99 is most of
    // a burst. With it they are refused instead, and the accepted ones keep a p99 far below.
    // Bounds are loose on purpose: this 2-core machine runs other tests at the same time, and the
    // clients share the CPU with the app. (The delay budget is 100 ms; an idle machine measures
    // the accepted p99 in single milliseconds.)
    expect(without.answers.every((a) => a.status === 200)).toBe(true);
    expect(summary.p99WithoutSheddingMs, JSON.stringify(summary)).toBeGreaterThan(BLOCK_MS / 2);
    expect(summary.p99AcceptedMs, JSON.stringify(summary)).toBeLessThan(
      summary.p99WithoutSheddingMs / 2,
    );
    // Back under the limit, the app serves again.
    expect((await send(`${on.url}/ping`)).status).toBe(200);
    await Promise.all([on.stop(), off.stop()]);
  }, 60_000);

  it('behind nginx with two instances, one overloaded: no client error, GET or POST', async () => {
    const env = { ...shedding, TRUST_PROXY: '1', PROXY_WHOAMI: 'true' };
    const busy = await startApp(dir, env, ['shed-harness.mjs']);
    // The calm instance's budget is one the machine's own load never reaches (other tests share
    // its two cores): this test is about the busy one. When both shed, see the next test.
    const calm = await startApp(dir, { ...env, SHED_MAX_EVENT_LOOP_DELAY_MS: '2000' }, [
      'shed-harness.mjs',
    ]);
    const nginx = await startNginx(dir, [busy.port, calm.port], join(parent, 'nginx-run'));

    const traffic = mixedTraffic(nginx.url, { clients: 6, pauseMs: 5 });
    // The busy instance blocks its loop in bursts (called directly, not through nginx).
    for (let i = 0; i < 8; i++) {
      await send(`${busy.url}/block?ms=${BLOCK_MS}`, { timeoutMs: 10_000 });
      await sleep(100);
    }
    await traffic.stop();

    const served = [...traffic.statuses.values()].reduce((a, b) => a + b, 0);
    expect(traffic.failures, traffic.failures.slice(0, 5).join('\n')).toEqual([]);
    expect(served).toBeGreaterThan(100);
    // The busy instance did shed: nginx sent those requests, POSTs included, to the other one.
    expect(await shedCount(busy)).toBeGreaterThan(0);
    expect(nginx.output()).toMatch(/"POST \/api\/echo[^\n]*upstream_status=503 : 200/);
    await nginx.stop();
    await Promise.all([busy.stop(), calm.stop()]);
  }, 120_000);

  it('behind nginx, when every instance sheds at once, clients get the 503 with Retry-After, never a 502', async () => {
    const apps = [
      await startApp(dir, shedding, ['shed-harness.mjs']),
      await startApp(dir, shedding, ['shed-harness.mjs']),
    ];
    const ports = apps.map((a) => a.port);
    const nginx = await startNginx(dir, ports, join(parent, 'nginx-all'));
    const statuses = new Map<number, number>();
    const missingRetryAfter: string[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let stop = false;
    const clients = Array.from({ length: 4 }, async () => {
      for (let i = 0; !stop; i++) {
        const post = i % 2 === 1;
        const reply = await send(`${nginx.url}${post ? '/api/echo' : '/ping'}`, {
          method: post ? 'POST' : 'GET',
          headers: post ? { 'Content-Type': 'application/json' } : {},
          body: post ? JSON.stringify({ i }) : undefined,
          agent,
          timeoutMs: 10_000,
        });
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.status === 503 && reply.headers['retry-after'] !== '1') {
          missingRetryAfter.push(`${post ? 'POST' : 'GET'}: ${reply.body.toString()}`);
        }
        await sleep(5);
      }
    });
    // Both instances block their loops at the same moments.
    for (let i = 0; i < 5; i++) {
      await Promise.all(
        apps.map((a) => send(`${a.url}/block?ms=${BLOCK_MS}`, { timeoutMs: 10_000 })),
      );
      await sleep(100);
    }
    stop = true;
    await Promise.all(clients);
    agent.destroy();

    // A 503 counted as an upstream failure would mark both instances down: 502 for fail_timeout.
    const seen = JSON.stringify(Object.fromEntries(statuses));
    expect([...statuses.keys()].sort(), seen).toEqual([200, 503]);
    expect(missingRetryAfter).toEqual([]);
    await nginx.stop();
    await Promise.all(apps.map((a) => a.stop()));
  }, 120_000);
});
