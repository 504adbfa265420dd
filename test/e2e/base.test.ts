import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
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

  it('exits 0 on SIGTERM even while a client holds a keep-alive connection open', async () => {
    const app = await startApp(project.dir, { SHUTDOWN_TIMEOUT_MS: '5000' });
    // A keep-alive connection held open by the client must not keep the process alive.
    const first = await fetch(`${app.url}/api/hello`, { headers: { connection: 'keep-alive' } });
    expect(first.status).toBe(200);
    const exit = app.stop('SIGTERM');
    expect(await exit).toBe(0);
  });
});
