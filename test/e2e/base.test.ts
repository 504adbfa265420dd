import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http-client.js';
import { generateVerified, type GeneratedProject } from '../helpers/project.js';
import { startApp } from '../helpers/processes.js';
import { tempDir } from '../helpers/tmp.js';

describe('the minimal preset, verified end to end', () => {
  let project: GeneratedProject;

  beforeAll(async () => {
    project = await generateVerified(tempDir(), 'base-app', ['--preset', 'minimal']);
  });

  it('installed, built, linted, tested and booted', () => {
    expect(project.result.steps.every((s) => s.status === 'passed')).toBe(true);
    expect(readFileSync(join(project.dir, 'package-lock.json'), 'utf8')).toContain('"express"');
    expect(readFileSync(join(project.dir, 'dist', 'main.js'), 'utf8')).toBeTruthy();
  });

  it('serves over HTTP with security headers, request ids and JSON errors', async () => {
    const app = await startApp(project.dir);
    const hello = await fetch(`${app.url}/api/hello`);
    expect(hello.status).toBe(200);
    expect(await hello.json()).toEqual({ message: 'Hello, world!' });
    expect(hello.headers.get('x-powered-by')).toBeNull();
    expect(hello.headers.get('x-request-id')).toBeTruthy();
    expect(hello.headers.get('content-security-policy')).toBeTruthy();
    const missing = await fetch(`${app.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'Not Found' });
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await app.stop('SIGTERM')).toBe(0);
  });

  it('stops with a clear message when the configuration is invalid', async () => {
    await expect(startApp(project.dir, { PORT: 'eighty' })).rejects.toThrow(
      /Invalid configuration: PORT must be a whole number/,
    );
  });

  it('exits 0 on SIGTERM well before the deadline while a client holds a keep-alive connection open', async () => {
    // A deadline far above the drain's own steps (2 s not ready, then sockets idle for 3 s are
    // closed): exiting at the deadline would mean the idle socket was never closed.
    const deadlineMs = 30_000;
    const app = await startApp(project.dir, { SHUTDOWN_TIMEOUT_MS: String(deadlineMs) });
    const agent = new Agent({ keepAlive: true });
    try {
      const first = await send(`${app.url}/api/hello`, { agent });
      expect(first.status).toBe(200);
      // The connection stays open in the client's pool, idle.
      expect(agent.freeSockets).not.toEqual({});
      const started = Date.now();
      const code = await app.stop('SIGTERM');
      // Generous for a loaded machine (about 5 s expected), yet far below the deadline.
      expect(Date.now() - started).toBeLessThan(deadlineMs / 2);
      expect(code).toBe(0);
      expect(app.output()).not.toContain('shutdown deadline reached');
    } finally {
      agent.destroy();
    }
  });
});
