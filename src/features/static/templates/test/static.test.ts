import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { assetUrl, isFingerprinted } from '../src/assets.js';
import { features } from '../src/features/index.js';
import { IMMUTABLE, staticFiles } from '../src/features/static.js';
import { probe, testContext } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'public-'));
writeFileSync(join(dir, 'page.html'), '<p>hi</p>');
writeFileSync(join(dir, 'app.0123abcd.js'), 'export {};');
writeFileSync(join(dir, '.env'), 'SECRET=1');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function appServing(checkEveryRequest: boolean) {
  const app = express();
  app.use(staticFiles(dir, checkEveryRequest));
  app.use((_req, res) => res.status(404).send('not here'));
  return app;
}

describe('static assets', () => {
  it('serves public/index.html with no-cache and fingerprinted files as immutable', async () => {
    const app = await createApp(testContext(), features);
    const page = await request(app).get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    // A page gets the document headers (its CSP lets it load its own styles), not the API set.
    expect(page.headers['content-security-policy']).toContain("style-src 'self'");
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    const css = page.text.match(/href="(\/assets\/app\.[0-9a-f]{8}\.css)"/)?.[1];
    expect(css).toBeDefined();
    const asset = await request(app)
      .get(css ?? '')
      .expect(200);
    expect(asset.headers['cache-control']).toBe(IMMUTABLE);
    expect(asset.headers.etag).toBeDefined();
    expect(asset.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(asset.headers['cross-origin-opener-policy']).toBeUndefined();
  });

  it('leaves the API and unknown paths to the routes', async () => {
    const app = await createApp(testContext(), [...features, probe]);
    await request(app).get('/api/probe').expect(200);
    const missing = await request(app).get('/assets/nope.12345678.js').expect(404);
    expect(missing.body.error).toBe('Not Found');
  });

  it('never serves dotfiles, in production and in development', async () => {
    for (const checkEveryRequest of [false, true]) {
      const app = appServing(checkEveryRequest);
      await request(app).get('/.env').expect(404, 'not here');
      await request(app).get('/page.html').expect(200).expect('cache-control', 'no-cache');
      await request(app).get('/app.0123abcd.js').expect(200).expect('cache-control', IMMUTABLE);
    }
  });

  it('points asset URLs at the CDN when ASSET_BASE_URL is set', async () => {
    expect(assetUrl('/assets/app.css', '')).toBe('/assets/app.css');
    expect(assetUrl('assets/app.css', 'https://cdn.example.com')).toBe(
      'https://cdn.example.com/assets/app.css',
    );
    // The feature's setup hands the validated ASSET_BASE_URL to assetUrl().
    await createApp(testContext({ ASSET_BASE_URL: 'https://cdn.example.com/' }));
    expect(assetUrl('/assets/app.css')).toBe('https://cdn.example.com/assets/app.css');
    await createApp(testContext());
    expect(assetUrl('/assets/app.css')).toBe('/assets/app.css');
  });

  it('refuses an ASSET_BASE_URL that is not a URL', () => {
    expect(() => testContext({ ASSET_BASE_URL: 'not a url' })).toThrow(/ASSET_BASE_URL/);
  });

  it('recognises fingerprinted names', () => {
    expect(isFingerprinted('app.3f9a1c2b.js')).toBe(true);
    expect(isFingerprinted('/assets/vendor-0a1b2c3d4e5f.css')).toBe(true);
    expect(isFingerprinted('index-BwK3f2aQ.js')).toBe(true);
    expect(isFingerprinted('app-2QF3BUMO.css')).toBe(true);
    expect(isFingerprinted('app.js')).toBe(false);
    expect(isFingerprinted('item-list2025.js')).toBe(false);
    expect(isFingerprinted('react-production.js')).toBe(false);
  });
});
