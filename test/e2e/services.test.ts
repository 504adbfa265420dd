/**
 * A workspace of two services behind the generated gateways: `create shop --services
 * users,payments --features nginx,docker,kubernetes` with its full verify (one install at the
 * root, every service built, linted, tested and booted), then two instances of each service on
 * loopback, behind real nginx running the generated gateway/nginx.conf, then behind real HAProxy
 * running the gateway/haproxy.cfg of the same workspace made with --features haproxy (without
 * install: the services are the same, only the gateway differs).
 *
 * The test rewrites only what belongs to a compose network (rewriteNginx, rewriteHaproxy): each
 * service's server line (compose name, DNS `resolve`) becomes one loopback line per instance
 * (Debian's nginx 1.22 has no `resolve`, and loopback ports need no DNS), the listen address
 * becomes a free loopback port, and nginx's temp paths go to the test's folder. Routing,
 * failover and the JSON errors are the generated configs' own. Last, the workspace's generated
 * CI workflow's `run:` steps (npm ci from the root lockfile, then the root's build, typecheck,
 * lint and test) pass in a fresh copy of it, as a runner would run them, and one service's
 * Dockerfile recipe runs outside Docker (test/helpers/dockerfile.ts) and its image boots.
 */
import { execa } from 'execa';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cp, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { hasBinary } from '../helpers/binaries.js';
import { runCli } from '../helpers/cli.js';
import { executeRecipe } from '../helpers/dockerfile.js';
import { runLoad, waitFor } from '../helpers/load.js';
import { freePort } from '../helpers/ports.js';
import { startApp, type Running } from '../helpers/processes.js';
import {
  haproxyCheck,
  asContainerPrivileges,
  processPrivileges,
  runProxy,
  tmpfsOf,
  type RunningProxy,
} from '../helpers/proxies.js';
import { tempDir } from '../helpers/tmp.js';

interface Step {
  target: string;
  name: string;
  status: string;
}

/**
 * The generated nginx gateway with its compose-only lines made loopback (see the file's comment),
 * and its writes (pid file, temp paths: the compose service's tmpfs at /tmp) in `tmpfs`.
 */
function rewriteNginx(
  config: string,
  options: { listenPort: number; instances: Record<string, number[]>; tmpfs: string },
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
  if (!/^\s*listen 8080 default_server;$/m.test(out)) throw new Error('no listen 8080 line');
  out = out.replace(/listen 8080 default_server;/, `listen 127.0.0.1:${options.listenPort};`);
  if (!/ \/tmp\//.test(out)) throw new Error('the gateway writes nothing into /tmp');
  return out.replace(/ \/tmp\//g, ` ${options.tmpfs}/`);
}

/** The generated HAProxy gateway with its compose-only lines made loopback. */
function rewriteHaproxy(
  config: string,
  options: { listenPort: number; instances: Record<string, number[]> },
): string {
  let out = config;
  for (const [service, ports] of Object.entries(options.instances)) {
    const block = new RegExp(
      `(# BEGIN ${service} servers\\n)(\\s*)server-template ${service} \\S+ ${service}:\\d+ .*\\n`,
    );
    if (!block.test(out)) throw new Error(`no server block for ${service}`);
    out = out.replace(block, (_m, begin: string, indent: string) => {
      const lines = ports.map(
        (port, i) => `${indent}server ${service}${i + 1} 127.0.0.1:${port}\n`,
      );
      return `${begin}${lines.join('')}`;
    });
  }
  if (!/^\s*bind :8080$/m.test(out)) throw new Error('no bind :8080 line');
  return out.replace(/bind :8080$/m, `bind 127.0.0.1:${options.listenPort}`);
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

type Gateway = 'nginx' | 'haproxy';

/** Starts the generated gateway of `kind` (rewritten as above) in front of the instances. */
async function startGateway(
  kind: Gateway,
  generated: string,
  port: number,
  instances: Record<string, number[]>,
  runDir: string,
): Promise<RunningProxy> {
  mkdirSync(runDir, { recursive: true });
  chmodSync(runDir, 0o755);
  // Both run as their compose services do (asInContainer): nobody, no capabilities, read-only
  // but for the tmpfs stand-in.
  const tmpfs = tmpfsOf(runDir);
  if (kind === 'nginx') {
    const config = rewriteNginx(generated, { listenPort: port, instances, tmpfs });
    const file = join(runDir, 'nginx.conf');
    writeFileSync(file, config);
    // No `nginx -t` first: run as root, it would leave root's files in the tmpfs stand-in. A
    // config error fails the start below, with nginx's output.
    return runProxy('nginx', ['-p', runDir, '-c', file, '-e', 'stderr', '-g', 'daemon off;'], {
      port,
      healthPath: '/gateway-health',
      config,
      logDir: runDir,
      tmpfs,
    });
  }
  const config = rewriteHaproxy(generated, { listenPort: port, instances });
  const file = join(runDir, 'haproxy.cfg');
  writeFileSync(file, config);
  const check = await haproxyCheck(file);
  if (check.exitCode !== 0) throw new Error(`haproxy -c refused the gateway:\n${check.output}`);
  // The image's command: master-worker (-W), foreground (-db).
  return runProxy('haproxy', ['-W', '-db', '-f', file], {
    port,
    healthPath: '/gateway-health',
    config,
    logDir: runDir,
    tmpfs,
  });
}

// HAProxy's log shows the captured id as {id}; nginx's as the id itself.
const logged = (path: string, id: string): RegExp =>
  new RegExp(`"GET ${path.replace(/\//g, '\\/')} HTTP/1\\.1" [^\\n]*request_id=\\{?${id}`);

describe.skipIf(!hasBinary('nginx'))('services workspace behind its gateway', () => {
  const parent = tempDir();
  const dir = join(parent, 'shop');
  const gateways: Gateway[] = hasBinary('haproxy') ? ['nginx', 'haproxy'] : ['nginx'];
  const configs: Partial<Record<Gateway, string>> = {};
  let steps: Step[];
  let users: Running[];
  const usersDir = (): string => join(dir, 'services/users');

  beforeAll(async () => {
    const result = await runCli(
      [
        'shop',
        '--services',
        'users,payments',
        '--features',
        // docker and kubernetes add files to each service (Dockerfile, k8s/): its verify (lint,
        // tests) must pass with them.
        'nginx,docker,kubernetes',
        '--yes',
        '--no-git',
        '--json',
      ],
      { cwd: parent, env: { npm_config_prefer_offline: 'true' } },
    );
    if (result.exitCode !== 0) throw new Error(`create failed:\n${result.stderr}`);
    steps = (JSON.parse(result.stdout) as { steps: Step[] }).steps;
    configs.nginx = readFileSync(join(dir, 'gateway/nginx.conf'), 'utf8');
    if (gateways.includes('haproxy')) {
      const other = join(parent, 'with-haproxy');
      mkdirSync(other);
      const made = await runCli(
        [
          'shop',
          '--services',
          'users,payments',
          '--features',
          'haproxy',
          '--yes',
          '--no-git',
          '--no-install',
        ],
        { cwd: other },
      );
      if (made.exitCode !== 0) throw new Error(`create (haproxy) failed:\n${made.stderr}`);
      configs.haproxy = readFileSync(join(other, 'shop/gateway/haproxy.cfg'), 'utf8');
    }
    const env = { TRUST_PROXY: '1' };
    users = [await startApp(usersDir(), env), await startApp(usersDir(), env)];
  }, 600_000);

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

  describe.each(gateways)('behind %s', (kind) => {
    let payments: Running[];
    let gateway: RunningProxy;
    let gw: string;

    beforeAll(async () => {
      const port = await freePort();
      gw = `http://127.0.0.1:${port}`;
      // payments reaches users through the gateway, as from a container without compose DNS.
      const paymentsEnv = { TRUST_PROXY: '1', USERS_URL: `${gw}/users` };
      const paymentsDir = join(dir, 'services/payments');
      payments = [
        await startApp(paymentsDir, paymentsEnv),
        await startApp(paymentsDir, paymentsEnv),
      ];
      gateway = await startGateway(
        kind,
        configs[kind] ?? '',
        port,
        { users: users.map((u) => u.port), payments: payments.map((p) => p.port) },
        join(parent, `${kind}-run`),
      );
      // HAProxy puts an instance in rotation after its first health check.
      await waitFor(async () => (await fetch(`${gw}/payments/healthz`)).status === 200, 10_000);
      await waitFor(async () => (await fetch(`${gw}/users/healthz`)).status === 200, 10_000);
    }, 60_000);

    afterAll(async () => {
      await gateway?.stop();
      await Promise.all((payments ?? []).map((p) => p.stop()));
    });

    it('runs as its hardened compose service: nobody, no capabilities, no new privileges', () => {
      const processes = processPrivileges(gateway);
      expect(processes.length).toBeGreaterThan(1); // the master and its workers
      for (const p of processes) {
        expect(p).toEqual(asContainerPrivileges);
      }
      expect(gateway.output()).not.toMatch(/\[(?:crit|alert|emerg)\]|Read-only file system/);
    });

    it('routes every service by its prefix, stripped, and payments asks users through it', async () => {
      for (const service of ['users', 'payments']) {
        expect((await fetch(`${gw}/${service}/healthz`)).status).toBe(200);
      }
      const user = await fetch(`${gw}/users/api/users/1`);
      expect(await user.json()).toEqual({ id: '1', name: 'Ada' });
      expect((await post(`${gw}/users/api/users`, { name: 'Grace' })).status).toBe(201);
      const payload = { userId: '1', amountCents: 100 };
      expect((await post(`${gw}/payments/api/payments`, payload, `${kind}-pay-1`)).status).toBe(
        201,
      );
      const unknown = await post(`${gw}/payments/api/payments`, { userId: '404', amountCents: 1 });
      expect(unknown.status).toBe(422);
      // The request id went from the caller through payments and the gateway to users.
      await waitFor(
        () => logged('/users/api/users/1', `${kind}-pay-1`).test(gateway.output()),
        5_000,
      );
      expect(gateway.output()).toMatch(logged('/users/api/users/1', `${kind}-pay-1`));
      // Metrics stay private behind the gateway; an unknown prefix is a 404.
      expect((await fetch(`${gw}/users/metrics`)).status).toBe(404);
      expect((await fetch(`${gw}/nope/x`)).status).toBe(404);
    });

    it('users down under load: payments keeps serving, users fails fast as JSON, the breaker opens; users back: all recovers', async () => {
      const payload = { userId: '1', amountCents: 100 };
      const killed = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await Promise.all(users.map((u) => u.stop('SIGKILL')));
      })();
      const [own, usersRoute] = await Promise.all([
        runLoad(`${gw}/payments/api/hello`, { concurrency: 4, durationMs: 4_000, pauseMs: 5 }),
        runLoad(`${gw}/users/api/users/1`, { concurrency: 2, durationMs: 4_000, pauseMs: 5 }),
        killed,
      ]);
      // payments' own routes: not one error.
      expect(own.failures).toEqual([]);
      expect(own.ok).toBeGreaterThan(0);
      // users' routes: answers until the kill, then failures, but never a hang (that would be a
      // failure "no answer within" 10 s, far above the gateway's immediate answer). A request in
      // flight at the very moment of the kill may be reset (HAProxy); after it, every answer is
      // the gateway's own JSON 503, checked under load again below.
      expect(usersRoute.statuses[200]).toBeGreaterThan(0);
      expect(usersRoute.failures.length).toBeGreaterThan(0);
      expect(usersRoute.failures.filter((f) => f.includes('no answer'))).toEqual([]);
      const after = await runLoad(`${gw}/users/api/users/1`, { concurrency: 2, durationMs: 1_000 });
      expect(after.ok).toBe(0);
      expect(after.failures.length).toBeGreaterThan(0);
      expect(after.failures.filter((f) => f !== 'status 503')).toEqual([]);
      const down = await fetch(`${gw}/users/api/users/1`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ error: 'Service Unavailable' });

      // payments → users: a JSON 503 while users is down. Enough calls to open both instances'
      // breakers (5 failures each); after that, calls no longer reach the users route at all.
      for (let i = 0; i < 24; i++) {
        const res = await post(`${gw}/payments/api/payments`, payload, `${kind}-warm-${i}`);
        expect(res.status).toBe(503);
        expect(JSON.parse(res.body)).toMatchObject({ error: 'Service Unavailable' });
      }
      for (let i = 0; i < 10; i++) {
        const res = await post(`${gw}/payments/api/payments`, payload, `${kind}-open-${i}`);
        expect(res.status).toBe(503);
      }
      // The warm-up calls reached the gateway (so the check can see calls), the later ones not.
      expect(gateway.output()).toMatch(logged('/users/api/users/1', `${kind}-warm-0\\b`));
      expect(gateway.output()).not.toMatch(logged('/users/api/users/1', `${kind}-open-`));

      // users back on the same ports: the gateway and payments' breakers recover, no restart.
      users = await Promise.all(
        users.map((u) => startApp(usersDir(), { TRUST_PROXY: '1', PORT: String(u.port) })),
      );
      let streak = 0;
      const recovered = await waitFor(async () => {
        const res = await post(`${gw}/payments/api/payments`, payload);
        streak = res.status === 201 ? streak + 1 : 0;
        // Both payments instances answer (the gateway spreads them): several in a row.
        return streak >= 6;
      }, 60_000);
      expect(recovered).toBe(true);
      expect((await fetch(`${gw}/users/api/users/1`)).status).toBe(200);
    }, 180_000);
  });

  // Last: its install and checks are the heaviest part, and must not slow the load tests above.
  it("the generated CI workflow's run steps pass in a fresh checkout of the workspace", async () => {
    const checkout = join(parent, 'checkout');
    // What git would check out: everything but the ignored node_modules and dist (lockfile kept).
    await cp(dir, checkout, {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|dist)([/\\]|$)/.test(src.slice(dir.length)),
    });
    const workflow = parseYaml(
      readFileSync(join(checkout, '.github/workflows/ci.yml'), 'utf8'),
    ) as {
      jobs: { test: { steps: { run?: string }[] } };
    };
    const runs = workflow.jobs.test.steps.flatMap((step) => (step.run ? [step.run] : []));
    expect(runs).toEqual([
      'npm ci',
      'npm run build',
      'npm run typecheck',
      'npm run lint',
      'npm test',
    ]);
    for (const run of runs) {
      const env: Record<string, string | undefined> = { ...process.env, CI: 'true' };
      delete env.NODE_ENV; // vitest sets it in this process; a runner has none
      delete env.VITEST;
      const result = await execa('sh', ['-c', run], {
        cwd: checkout,
        env: { ...env, npm_config_prefer_offline: 'true' },
        extendEnv: false,
        all: true,
        reject: false,
        stdin: 'ignore',
        timeout: 300_000,
      });
      expect(result.exitCode, `${run}:\n${String(result.all).slice(-3000)}`).toBe(0);
    }
  }, 600_000);
  it("payments' Dockerfile recipe: filtered install, build, production install; the image boots", async () => {
    const image = await executeRecipe(dir, join(parent, 'image'), 'services/payments/Dockerfile');
    expect(image.runs.map((r) => r.command).join('\n')).toContain('npm ci --omit=dev');
    const has = (rel: string): Promise<boolean> =>
      stat(join(image.dir, rel)).then(
        () => true,
        () => false,
      );
    expect(await has('services/payments/dist/main.js')).toBe(true);
    expect(await has('packages/service-client/dist/index.js')).toBe(true);
    // Only this service and the client: not the other service, nor the dev tools.
    expect(await has('services/users')).toBe(false);
    for (const dev of ['typescript', 'vitest', 'eslint'])
      expect(await has(`node_modules/${dev}`), dev).toBe(false);
    expect(image.env.NODE_ENV).toBe('production');
    // The image's CMD from its WORKDIR: express and the shared client resolve through links.
    const app = await startApp(
      join(image.dir, 'services/payments'),
      { USERS_URL: 'http://127.0.0.1:9' },
      image.cmd.slice(1),
    );
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect(await app.stop()).toBe(0);
  }, 600_000);
});
