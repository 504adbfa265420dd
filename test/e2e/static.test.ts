import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startArgs } from '../helpers/app-output.js';
import { spawnTracked, startApp } from '../helpers/processes.js';
import { generateBuilt } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/** A project with static assets, generated with the full test-build, served by the real process. */
const parent = tempDir('cse-static-');
let dir: string;

const IMMUTABLE = 'public, max-age=31536000, immutable';

beforeAll(async () => {
  dir = (await generateBuilt(parent, 'with-static', ['--features', 'static'])).dir;
  // A secret that must never be served, although it sits in public/.
  writeFileSync(join(dir, 'public', '.env'), 'SECRET=e2e-dotfile-secret\n');
}, 600_000);

/**
 * The status of a conditional GET. Not with fetch: for a request carrying If-None-Match it adds
 * `Cache-Control: no-cache`, which makes any server answer in full.
 */
function conditionalStatus(url: string, etag: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'If-None-Match': etag } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

describe('static assets in the running app', () => {
  it('serves HTML with no-cache and fingerprinted assets as immutable, with validators', async () => {
    const app = await startApp(dir, {}, startArgs(dir));
    const page = await fetch(`${app.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const css = /href="(\/assets\/app\.[0-9a-f]{8}\.css)"/.exec(html)?.[1];
    const js = /src="(\/assets\/app\.[0-9a-f]{8}\.js)"/.exec(html)?.[1];
    expect(css).toBeDefined();
    expect(js).toBeDefined();

    for (const [path, type] of [
      [css, /^text\/css/],
      [js, /javascript/],
    ] as const) {
      const asset = await fetch(`${app.url}${path}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(type);
      expect(asset.headers.get('cache-control')).toBe(IMMUTABLE);
      expect(asset.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      const etag = asset.headers.get('etag') ?? '';
      expect(etag).not.toBe('');
      expect(await conditionalStatus(`${app.url}${path}`, etag)).toBe(304);
    }

    // The page revalidates cheaply too.
    const etag = page.headers.get('etag') ?? '';
    expect(await conditionalStatus(`${app.url}/`, etag)).toBe(304);
    expect(await app.stop()).toBe(0);
  });

  it('never serves dotfiles and leaves the API and unknown paths to the app', async () => {
    const app = await startApp(dir, {}, startArgs(dir));
    const secret = await fetch(`${app.url}/.env`);
    expect(secret.status).toBe(404);
    expect(await secret.text()).not.toContain('e2e-dotfile-secret');
    const hello = await fetch(`${app.url}/api/hello`);
    expect(await hello.json()).toEqual({ message: 'Hello, world!' });
    const missing = await fetch(`${app.url}/assets/app.00000000.css`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe('Not Found');
    expect(await app.stop()).toBe(0);
  });

  it('points asset URLs at ASSET_BASE_URL, allowed by the page policy', async () => {
    const app = await startApp(dir, { ASSET_BASE_URL: 'https://cdn.example.com/' }, startArgs(dir));
    const page = await fetch(`${app.url}/example`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    expect(html).toContain('href="https://cdn.example.com/assets/app.3f9a1c2b.css"');
    expect(html).toContain('src="https://cdn.example.com/assets/app.7c1e4d9a.js"');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self' https://cdn.example.com");
    expect(csp).toContain("style-src 'self' https://cdn.example.com");
    // The CDN's origin pull gets the same immutable asset.
    const asset = await fetch(`${app.url}/assets/app.3f9a1c2b.css`);
    expect(asset.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(await app.stop()).toBe(0);
  });

  it('refuses to start with an ASSET_BASE_URL that is not a URL', async () => {
    const { child, output } = spawnTracked(process.execPath, startArgs(dir), {
      cwd: dir,
      env: { NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', ASSET_BASE_URL: 'cdn dot com' },
    });
    const result = await child;
    expect(result.exitCode).not.toBe(0);
    expect(output()).toContain('ASSET_BASE_URL');
  });
});
