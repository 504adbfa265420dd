/**
 * A workspace of two services behind the generated nginx gateway: `create shop --services
 * users,payments --features nginx` with its full verify (one install at the root, every service
 * built, linted, tested and booted), then two instances of each service on loopback behind real
 * nginx running the generated gateway/nginx.conf.
 *
 * The test rewrites only what belongs to a compose network (see rewriteGateway): each service's
 * `server <service>:<port> … resolve;` line becomes one loopback line per instance (Debian's nginx
 * 1.22 has no `resolve`, and loopback ports need no DNS), `listen 80` becomes a free loopback
 * port, and nginx's temp paths go to the test's folder. Routing, failover and the JSON 503 are
 * the generated config's own.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasBinary } from '../helpers/binaries.js';
import { runCli } from '../helpers/cli.js';
import { runLoad, waitFor } from '../helpers/load.js';
import { freePort } from '../helpers/ports.js';
import { startApp, type Running } from '../helpers/processes.js';
import { nginxTest, runProxy, type RunningProxy } from '../helpers/proxies.js';
import { tempDir } from '../helpers/tmp.js';

interface Step {
  target: string;
  name: string;
  status: string;
}

/** The generated gateway with its compose-only lines made loopback (see the file's comment). */
function rewriteGateway(
  config: string,
  options: { listenPort: number; instances: Record<string, number[]>; tempDir: string },
): string {
  let out = config;
  for (const [service, ports] of Object.entries(options.instances)) {
    const block = new RegExp(
      `(# BEGIN ${service} servers\\n)(\\s*)server ${service}:\\d+ (.*?) resolve;\\n`,
    );
    if (!block.test(out)) throw new Error(`no server block for ${service}`);
    out = out.replace(block, (_m, begin: string, indent: string, params: string) => {
      const lines = ports.map((port) => `${indent}server 127.0.0.1:${port} ${params};\n`);
      return `${begin}${lines.join('')}`;
    });
  }
  if (!/^\s*listen 80 default_server;$/m.test(out)) throw new Error('no listen 80 line');
  out = out.replace(/listen 80 default_server;/, `listen 127.0.0.1:${options.listenPort};`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `    ${kind}_temp_path ${join(options.tempDir, `${kind}_temp`)};`)
    .join('\n');
  return out.replace(/^http \{$/m, `http {\n${temp}`);
}

async function post(url: string, body: unknown, requestId?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(requestId ? { 'x-request-id': requestId } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: await res.text(),
  };
}

describe.skipIf(!hasBinary('nginx'))('services workspace behind the nginx gateway', () => {
  const parent = tempDir();
  const dir = join(parent, 'shop');
  let steps: Step[];
  let users: Running[];
  let payments: Running[];
  let gateway: RunningProxy;
  let gw: string;

  beforeAll(async () => {
    const result = await runCli(
      [
        'shop',
        '--services',
        'users,payments',
        '--features',
        'nginx',
        '--yes',
        '--no-git',
        '--json',
      ],
      { cwd: parent, env: { npm_config_prefer_offline: 'true' } },
    );
    if (result.exitCode !== 0) throw new Error(`create failed:\n${result.stderr}`);
    steps = (JSON.parse(result.stdout) as { steps: Step[] }).steps;

    const env = { TRUST_PROXY: '1' };
    users = [
      await startApp(join(dir, 'services/users'), env),
      await startApp(join(dir, 'services/users'), env),
    ];
    const port = await freePort();
    gw = `http://127.0.0.1:${port}`;
    // payments reaches users through the gateway, as from a container without compose DNS.
    const paymentsEnv = { ...env, USERS_URL: `${gw}/users` };
    payments = [
      await startApp(join(dir, 'services/payments'), paymentsEnv),
      await startApp(join(dir, 'services/payments'), paymentsEnv),
    ];
    const runDir = join(parent, 'gateway-run');
    const config = rewriteGateway(readFileSync(join(dir, 'gateway/nginx.conf'), 'utf8'), {
      listenPort: port,
      instances: { users: users.map((u) => u.port), payments: payments.map((p) => p.port) },
      tempDir: runDir,
    });
    gateway = await startGatewayWith(config, port, runDir);
  }, 600_000);

  async function startGatewayWith(config: string, port: number, runDir: string) {
    const { mkdirSync, chmodSync } = await import('node:fs');
    mkdirSync(runDir, { recursive: true });
    chmodSync(runDir, 0o755);
    const file = join(runDir, 'nginx.conf');
    writeFileSync(file, config);
    const check = await nginxTest(file, runDir);
    if (check.exitCode !== 0) throw new Error(`nginx -t refused the gateway:\n${check.output}`);
    return runProxy(
      'nginx',
      [
        '-p',
        runDir,
        '-c',
        file,
        '-e',
        'stderr',
        '-g',
        `daemon off; pid ${join(runDir, 'nginx.pid')};`,
      ],
      { port, healthPath: '/gateway-health', config, logDir: runDir },
    );
  }

  it('verified the workspace: one install at the root, then every part on its own', () => {
    const done = steps.map((s) => `${s.target} ${s.name} ${s.status}`);
    expect(done).toEqual([
      '. install passed',
      ...['build', 'typecheck', 'lint', 'test'].map((n) => `packages/service-client ${n} passed`),
      ...['users', 'payments'].flatMap((s) =>
        ['build', 'typecheck', 'lint', 'test', 'boot'].map((n) => `services/${s} ${n} passed`),
      ),
    ]);
  });

  it('routes every service by its prefix, stripped, and payments asks users through it', async () => {
    for (const service of ['users', 'payments']) {
      const health = await fetch(`${gw}/${service}/healthz`);
      expect(health.status).toBe(200);
    }
    const user = await fetch(`${gw}/users/api/users/1`);
    expect(await user.json()).toEqual({ id: '1', name: 'Ada' });
    const made = await post(`${gw}/users/api/users`, { name: 'Grace' });
    expect(made.status).toBe(201);
    const paid = await post(
      `${gw}/payments/api/payments`,
      { userId: '1', amountCents: 100 },
      'e2e-pay-1',
    );
    expect(paid.status).toBe(201);
    expect(
      (await post(`${gw}/payments/api/payments`, { userId: '404', amountCents: 1 })).status,
    ).toBe(422);
    // The request id went from the caller through payments and the gateway to users.
    expect(gateway.output()).toMatch(
      /"GET \/users\/api\/users\/1 HTTP\/1\.1" 200 .*request_id=e2e-pay-1/,
    );
    // Metrics stay private behind the gateway.
    expect((await fetch(`${gw}/users/metrics`)).status).toBe(404);
  });

  it('users down under load: payments keeps serving, users fails fast as JSON, the breaker opens; users back: all recovers', async () => {
    const payload = { userId: '1', amountCents: 100 };
    // Load on both services while every users instance is killed.
    const killed = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await Promise.all(users.map((u) => u.stop('SIGKILL')));
    })();
    const [own, usersRoute] = await Promise.all([
      runLoad(`${gw}/payments/api/hello`, { concurrency: 4, durationMs: 4_000, pauseMs: 5 }),
      runLoad(`${gw}/users/api/users/1`, {
        concurrency: 2,
        durationMs: 4_000,
        pauseMs: 5,
        requestTimeoutMs: 10_000,
      }),
      killed,
    ]);
    // payments' own routes: not one error.
    expect(own.failures).toEqual([]);
    expect(own.ok).toBeGreaterThan(0);
    // users' routes: answers until the kill, then 503s; never a hang (a hang is a failure with
    // "no answer within", after 10 s: far above nginx's immediate answer, generous for a busy box).
    expect(usersRoute.statuses[200]).toBeGreaterThan(0);
    expect(usersRoute.failures.length).toBeGreaterThan(0);
    expect(usersRoute.failures.every((f) => f === 'status 503')).toBe(true);
    const down = await fetch(`${gw}/users/api/users/1`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ error: 'Service Unavailable' });

    // payments → users: 503 in JSON while users is down. Enough calls to open both instances'
    // breakers (5 failures each); then calls no longer reach the gateway's users route at all.
    for (let i = 0; i < 24; i++) {
      const res = await post(`${gw}/payments/api/payments`, payload, `e2e-warm-${i}`);
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'Service Unavailable' });
    }
    for (let i = 0; i < 10; i++) {
      const res = await post(`${gw}/payments/api/payments`, payload, `e2e-open-${i}`);
      expect(res.status).toBe(503);
    }
    // The warm-up calls reached the gateway (so the check below can see calls), the later ones not.
    expect(gateway.output()).toMatch(/GET \/users\/api\/users\/1 .*request_id=e2e-warm-0\b/);
    expect(gateway.output()).not.toMatch(/GET \/users\/api\/users\/1 .*request_id=e2e-open-/);

    // users back on the same ports: the gateway and payments' breakers recover, no restart.
    users = await Promise.all(
      users.map((u) =>
        startApp(join(dir, 'services/users'), { TRUST_PROXY: '1', PORT: String(u.port) }),
      ),
    );
    let streak = 0;
    const recovered = await waitFor(async () => {
      const res = await post(`${gw}/payments/api/payments`, payload);
      streak = res.status === 201 ? streak + 1 : 0;
      // Both payments instances answer (least_conn spreads them): several in a row.
      return streak >= 6;
    }, 60_000);
    expect(recovered).toBe(true);
    expect((await fetch(`${gw}/users/api/users/1`)).status).toBe(200);
  }, 180_000);
});
