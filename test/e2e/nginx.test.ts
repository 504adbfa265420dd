import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasBinary } from '../helpers/binaries.js';
import { runCli } from '../helpers/cli.js';
import { assertValidCompose } from '../helpers/compose-schema.js';
import { composeConfig, hardenedProxy } from '../helpers/proxies.js';
import { send, trafficDuring, whoami, type Whoami } from '../helpers/http-client.js';
import { waitFor } from '../helpers/load.js';
import { startApp, type Running } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import {
  lineChanges,
  proxyConnectionsTo,
  nginxTest,
  asContainerPrivileges,
  processPrivileges,
  rewriteNginxConfig,
  rollingRestartBehind,
  startNginx,
  startTinyUpstream,
  tmpfsOf,
  worldWritable,
  type RunningProxy,
} from '../helpers/proxies.js';
import { tempDir } from '../helpers/tmp.js';

describe.skipIf(!hasBinary('nginx'))('nginx feature', () => {
  const parent = tempDir();
  let dir: string;
  let generated: string;
  let apps: Running[];
  let nginx: RunningProxy;

  beforeAll(async () => {
    ({ dir } = await generateBuilt(parent, 'lb-nginx', ['--features', 'nginx']));
    generated = readFileSync(join(dir, 'nginx/nginx.conf'), 'utf8');
    const env = { TRUST_PROXY: '1', PROXY_WHOAMI: 'true' };
    apps = [await startApp(dir, env), await startApp(dir, env), await startApp(dir, env)];
    nginx = await startNginx(
      dir,
      apps.map((a) => a.port),
      join(parent, 'nginx-run'),
    );
  }, 600_000);

  it('generates a config for compose replicas that nginx -t accepts once compose names are loopback ports', async () => {
    // The compose-only part, as generated: one re-resolved `app` server line, in its block.
    expect(generated).toMatch(
      /# BEGIN app servers\n\s+server app:3000 max_fails=3 fail_timeout=10s resolve;\n\s+# END app servers/,
    );
    expect(generated).toContain('resolver 127.0.0.11 valid=10s');
    expect(generated).toMatch(/zone app \d+k;/);

    // Every path nginx writes is in /tmp, the compose service's tmpfs.
    const writes = generated.match(/^\s*(?:pid|\w+_temp_path|\w+_cache_path) \S+;$/gm) ?? [];
    expect(writes.map((l) => l.trim().split(' ')[0])).toEqual([
      'pid',
      'client_body_temp_path',
      'proxy_temp_path',
      'fastcgi_temp_path',
      'uwsgi_temp_path',
      'scgi_temp_path',
    ]);
    for (const line of writes) expect(line).toMatch(/ \/tmp\/\w+(?:\.pid)?;$/);

    // The test's rewrite changes only the server lines, the listen address and the /tmp paths
    // (into the folder standing in for the tmpfs).
    const tmpfs = tmpfsOf(join(parent, 'nginx-t'));
    const rewritten = rewriteNginxConfig(generated, {
      listenPort: 18080,
      upstreamPorts: [18081, 18082],
      tempDir: join(parent, 'nginx-t'),
    });
    const { added, removed } = lineChanges(generated, rewritten);
    expect(removed.map((l) => l.trim())).toEqual([
      ...writes.map((l) => l.trim()),
      'server app:3000 max_fails=3 fail_timeout=10s resolve;',
      'listen 8080 default_server;',
    ]);
    expect(added.map((l) => l.trim())).toEqual([
      ...writes.map((l) => l.trim().replace(' /tmp/', ` ${tmpfs}/`)),
      'server 127.0.0.1:18081 max_fails=3 fail_timeout=10s;',
      'server 127.0.0.1:18082 max_fails=3 fail_timeout=10s;',
      'listen 127.0.0.1:18080 default_server;',
    ]);
    const file = join(parent, 'nginx-t.conf');
    writeFileSync(file, rewritten);
    const checked = await nginxTest(file, join(parent, 'nginx-t'));
    expect(checked.output).toContain('test is successful');
    expect(checked.exitCode).toBe(0);
  });

  it('the generated config as is fails on this nginx only if it predates `resolve` (1.27.3)', async () => {
    const file = join(parent, 'nginx-as-generated.conf');
    writeFileSync(file, generated);
    const checked = await nginxTest(file, join(parent, 'nginx-t'));
    const [major = 0, minor = 0, patch = 0] = await nginxVersion();
    if (major === 1 && minor * 1000 + patch < 27_003) {
      // Debian 12's 1.22: the one thing it rejects is the `resolve` parameter.
      expect(checked.exitCode).not.toBe(0);
      expect(checked.output).toMatch(/invalid parameter "resolve"/);
    } else {
      expect(checked.output).not.toMatch(/invalid parameter/);
    }
  });

  it('runs as its hardened compose service: nobody, no capabilities, writing only in the tmpfs', async () => {
    // startNginx ran it as the compose service runs (asInContainer): every process unprivileged,
    // with no capability and no-new-privs, on a read-only filesystem but for the tmpfs stand-in.
    const processes = processPrivileges(nginx);
    expect(processes.length).toBeGreaterThan(1);
    for (const p of processes) {
      expect(p).toEqual(asContainerPrivileges);
    }
    expect((await send(`${nginx.url}/api/hello`)).status).toBe(200);
    // A body above the in-memory buffer (16 KB on 64-bit) goes through client_body_temp_path.
    const big = JSON.stringify({ big: 'x'.repeat(64 * 1024) });
    const echoed = await send(`${nginx.url}/api/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: big,
    });
    expect(echoed.status).toBe(200);
    expect(JSON.parse(echoed.body.toString())).toEqual({ received: JSON.parse(big) });
    expect(nginx.output()).not.toMatch(/\[(?:crit|alert|emerg)\]|Read-only file system/);
    expect(readdirSync(tmpfsOf(join(parent, 'nginx-run'))).sort()).toEqual([
      'client_body',
      'fastcgi',
      'nginx.pid',
      'proxy',
      'scgi',
      'uwsgi',
    ]);

    // The control: the same config with its pid file outside the tmpfs, in a folder anyone may
    // write to, does not start: the read-only root above is real.
    const open = worldWritable(join(parent, 'nginx-outside', 'open'));
    await expect(
      startNginx(dir, [apps[0]?.port ?? 0], join(parent, 'nginx-outside'), (config) =>
        config.replace(/^pid \S+;$/m, `pid ${join(open, 'nginx.pid')};`),
      ),
    ).rejects.toThrow(/nginx\.pid" failed \(30: Read-only file system\)/);
  });

  it('spreads requests over every instance', async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 30; i++) pids.add((await whoami(nginx.url)).seen.instance.pid);
    expect(pids).toEqual(new Set(apps.map((a) => a.pid)));
  });

  it("gives the app the client's real address and protocol, not forged headers", async () => {
    const { seen } = await whoami(nginx.url, {
      'X-Forwarded-For': '203.0.113.7',
      'X-Forwarded-Proto': 'https',
    });
    expect(seen.ip).toBe('127.0.0.1');
    expect(seen.protocol).toBe('http');
    // nginx appended the address it saw to what the client sent; the app trusted one hop only.
    expect(seen.forwardedFor).toBe('203.0.113.7, 127.0.0.1');
  });

  it("passes the caller's X-Request-Id, else nginx's own $request_id", async () => {
    const kept = await send(`${nginx.url}/api/hello`, { headers: { 'X-Request-Id': 'trace-42' } });
    expect(kept.headers['x-request-id']).toBe('trace-42');
    const made = await send(`${nginx.url}/whoami`);
    const body = JSON.parse(made.body.toString()) as Whoami;
    // 32 hex digits is nginx's format (the app would make a UUID with dashes).
    expect(body.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(made.headers['x-request-id']).toBe(body.requestId);
  });

  it('gzips JSON at nginx', async () => {
    const payload = {
      items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}` })),
    };
    const reply = await send(`${nginx.url}/api/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept-Encoding': 'gzip' },
      body: JSON.stringify(payload),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers.vary).toMatch(/Accept-Encoding/i);
    const json = JSON.parse(gunzipSync(reply.body).toString()) as { received: unknown };
    expect(json.received).toEqual(payload);
    expect(reply.body.length).toBeLessThan(JSON.stringify(json).length / 2);

    // The app itself does not compress (that is nginx's job).
    const direct = await send(`${apps[0]?.url ?? ''}/api/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept-Encoding': 'gzip' },
      body: JSON.stringify(payload),
    });
    expect(direct.headers['content-encoding']).toBeUndefined();
  });

  it('refuses bodies over client_max_body_size before they reach the app', async () => {
    const reply = await send(`${nginx.url}/api/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ big: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(reply.status).toBe(413);
    expect(reply.headers['x-request-id']).toBeUndefined();
  });

  it('keeps connections to the app open between requests (upstream keep-alive)', async () => {
    for (let i = 0; i < 30; i++) expect((await send(`${nginx.url}/api/hello`)).status).toBe(200);
    // Every response is complete, yet connections to the app stay open for the next requests;
    // without keep-alive there would be none (one connection per request, closed after it).
    const open = apps.map((a) => proxyConnectionsTo(nginx, a.port));
    expect(open.reduce((a, b) => a + b)).toBeGreaterThan(0);
    expect(open.reduce((a, b) => a + b)).toBeLessThan(30);
  });

  it('drains an instance stopped gracefully (SIGTERM) under traffic without a single error', async () => {
    const [victim] = apps as [Running, Running, Running];
    let exitCode: number | undefined;
    const traffic = await trafficDuring(nginx.url, async () => {
      exitCode = await victim.stop('SIGTERM');
    });
    expect(exitCode).toBe(0);
    // A graceful drain: not one request fails, before, during or after. GETs are retried by nginx,
    // which would hide a reset: nginx must not have seen one either.
    expect(traffic.statuses.filter((s) => s !== 200)).toEqual([]);
    expect(upstreamReadErrors(nginx)).toEqual([]);
    // The victim was in rotation when it was stopped; once it has exited the others answer.
    expect(traffic.servedBeforeAction).toContain(victim.pid);
    expect(traffic.afterAction.length).toBeGreaterThanOrEqual(40);
    expect(traffic.afterAction.map((r) => r.pid)).not.toContain(victim.pid);
  });

  it('keeps answering when an instance dies (SIGKILL) under traffic: no error once failed over', async () => {
    const [, victim, survivor] = apps as [Running, Running, Running];
    // The action ends once the proxy had time to fail over (health checks, passive failures).
    const traffic = await trafficDuring(nginx.url, async () => {
      await victim.stop('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 3000));
    });
    // Once failed over (every request sent after the kill), no error at all and only the survivor
    // answers. Requests in flight at the very moment of the kill are retried by the proxy where it
    // can; the bar is "no 5xx once failed over".
    expect(traffic.servedBeforeAction).toContain(victim.pid);
    expect(traffic.afterAction.length).toBeGreaterThanOrEqual(40);
    expect(traffic.afterAction.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(traffic.afterAction.map((r) => r.pid))).toEqual(new Set([survivor.pid]));
  });
  it('never routes /metrics, in any spelling Express would match: nginx answers 404 itself', async () => {
    for (const path of ['/metrics', '/METRICS', '/metrics/', '/Metrics/x', '/metrics?format=x']) {
      const reply = await send(`${nginx.url}${path}`);
      expect(reply.status, path).toBe(404);
      // The app sets X-Request-Id on every answer, its own 404s included: this one never got there.
      expect(reply.headers['x-request-id'], path).toBeUndefined();
    }
    // The control: a path that only starts the same way does reach the app (its JSON 404).
    const other = await send(`${nginx.url}/metricsfoo`);
    expect(other.status).toBe(404);
    expect(other.headers['x-request-id']).toBeTruthy();
  });

  it('least_conn: while a slow request holds one instance, the next ones go to the other', async () => {
    const upstreams = [await startTinyUpstream('a'), await startTinyUpstream('b')];
    const lb = await startNginx(
      dir,
      upstreams.map((u) => u.port),
      join(parent, 'nginx-least-conn'),
    );
    try {
      const slow = send(`${lb.url}/slow`);
      expect(await waitFor(() => upstreams.some((u) => u.held() === 1), 10_000)).toBe(true);
      const busy = upstreams.findIndex((u) => u.held() === 1) === 0 ? 'a' : 'b';
      const answers = new Set<string>();
      for (let i = 0; i < 10; i++) answers.add((await send(`${lb.url}/fast`)).body.toString());
      // Round-robin would send about half of them to the busy instance.
      expect(answers).toEqual(new Set([busy === 'a' ? 'b' : 'a']));
      upstreams.forEach((u) => u.release());
      expect((await slow).body.toString()).toBe(busy);
    } finally {
      await lb.stop();
      await Promise.all(upstreams.map((u) => u.close()));
    }
  });

  it('passes a WebSocket upgrade through to the app, both ways', async () => {
    const upstream = await startTinyUpstream('app');
    const lb = await startNginx(dir, [upstream.port], join(parent, 'nginx-ws'));
    try {
      const socket = new WebSocket(`${lb.url.replace('http', 'ws')}/socket`);
      const echoed = new Promise<string>((resolve, reject) => {
        socket.addEventListener('open', () => socket.send('ping'));
        socket.addEventListener('message', (event) => resolve(String(event.data)));
        socket.addEventListener('error', () => reject(new Error('WebSocket error')));
      });
      expect(await echoed).toBe('app:ping');
      socket.close();
      const upgrade = upstream.seen.find((r) => r.url === '/socket');
      expect(upgrade?.headers.upgrade).toBe('websocket');
      expect(upgrade?.headers.connection).toMatch(/upgrade/i);
      // A plain request goes without "Connection: upgrade" (so its connection can be reused).
      await send(`${lb.url}/plain`);
      expect(upstream.seen.find((r) => r.url === '/plain')?.headers.connection).toBeUndefined();
    } finally {
      await lb.stop();
      await upstream.close();
    }
  });

  it('loses no request, POSTs included, over three rolling restarts (SIGTERM, start again)', async () => {
    const { bothServed, restarts, traffic, proxy } = await rollingRestartBehind(dir, (ports) =>
      startNginx(dir, ports, join(parent, 'nginx-rolling')),
    );
    expect(bothServed).toBe(true);
    expect(restarts.exitCodes).toEqual([0, 0, 0]);
    expect(restarts.rejoined).toEqual([true, true, true]);
    // Zero failed requests: no 5xx from nginx or the app, no reset, no mismatched echo.
    expect(traffic.failures).toEqual([]);
    expect(traffic.statuses.get(200)).toBeGreaterThan(300);
    // nginx saw no upstream socket fail with a request on it (a refused connect, retried on the
    // other instance, is expected while one restarts).
    expect(upstreamReadErrors(proxy)).toEqual([]);
  });
});

/** nginx's log lines for upstream sockets that were reset or closed with a request on them. */
function upstreamReadErrors(proxy: RunningProxy): string[] {
  return proxy
    .output()
    .split('\n')
    .filter((line) => /recv\(\) failed|prematurely closed|reset by peer|broken pipe/.test(line));
}

async function nginxVersion(): Promise<number[]> {
  const result = await execa('nginx', ['-v'], { reject: false, all: true });
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(String(result.all));
  if (!match) throw new Error(`cannot read nginx -v: ${String(result.all)}`);
  return match.slice(1).map(Number);
}

describe('nginx feature with docker: the compose service', () => {
  const parent = tempDir();

  it('runs a pinned image with the generated config, in front of the scaled app service', async () => {
    const result = await runCli(
      ['lb', '--features', 'nginx,docker', '--port', '4000', '--yes', '--no-install', '--no-git'],
      { cwd: parent },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const dir = join(parent, 'lb');
    const compose = parse(readFileSync(join(dir, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, Record<string, unknown>>;
    };
    expect(() => assertValidCompose(compose)).not.toThrow();
    const service = compose.services.nginx as {
      image: string;
      ports: string[];
      volumes: string[];
      depends_on: unknown;
      healthcheck: { test: string[] };
      tmpfs: string[];
    };
    // nginx ≥ 1.27.3 (for `resolve`), pinned to a release, on Alpine (busybox wget for the health check).
    expect(service.image).toMatch(/^nginx:1\.(?:2[7-9]|[3-9]\d)\.\d+-alpine$/);
    expect(service.depends_on).toEqual({ app: { condition: 'service_healthy' } });
    // Hardened as the app's service is, as the image's unprivileged user.
    expect(service).toMatchObject(hardenedProxy('nginx'));
    expect(service.tmpfs).toEqual([expect.stringMatching(/^\/tmp:size=\d+m$/)]);
    expect(await composeConfig(dir), 'docker-compose config').toBe(0);

    // The mounted file is the generated one, read-only, where the image reads its config.
    const [source, target, mode] = (service.volumes[0] ?? '').split(':');
    expect(source).toBe('./nginx/nginx.conf');
    expect(existsSync(join(dir, source ?? ''))).toBe(true);
    expect(target).toBe('/etc/nginx/nginx.conf');
    expect(mode).toBe('ro');

    // The published port leads to the port the config listens on, unprivileged (nginx has no
    // capability to bind below 1024); the health check asks the proxy itself; the config sends
    // traffic to the app's port (--port 4000); every path nginx writes is in the tmpfs.
    const config = readFileSync(join(dir, 'nginx/nginx.conf'), 'utf8');
    const listen = /^\s+listen (\d+) default_server;$/m.exec(config)?.[1];
    expect(Number(listen)).toBeGreaterThan(1023);
    expect(service.ports).toEqual([`8080:${listen ?? '?'}`]);
    expect(service.healthcheck.test.join(' ')).toContain(`127.0.0.1:${listen ?? ''}/nginx-health`);
    const writes = config.match(/^\s*(?:pid|\w+_temp_path|\w+_cache_path) \S+;$/gm) ?? [];
    expect(writes).toHaveLength(6);
    for (const line of writes) expect(line).toMatch(/ \/tmp\//);
    expect(config).toContain('/nginx-health');
    expect(/server app:(\d+) /.exec(config)?.[1]).toBe('4000');
    const app = compose.services.app as { environment: Record<string, string>; ports?: unknown };
    expect(app.environment.PORT).toBe('4000');
    expect(app.environment.TRUST_PROXY).toBe('1');
    expect(app.ports).toBeUndefined();
  });
});
