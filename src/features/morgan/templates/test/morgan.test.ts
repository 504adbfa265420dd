import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import { features } from '../src/features/index.js';
import { probe, testContext } from './helpers.js';

/** The access log lines the app writes on stdout while `run` goes. */
async function accessLines(
  env: Record<string, string>,
  run: (app: Awaited<ReturnType<typeof createApp>>) => Promise<unknown>,
) {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    const text = chunk.toString();
    if (text.includes('HTTP/1.1"')) lines.push(...text.trimEnd().split('\n'));
    else write(chunk);
    return true;
  });
  const app = await createApp(testContext(env), [...features, probe]);
  await run(app);
  await vi.waitFor(() => expect(lines.length).toBeGreaterThan(0));
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe('morgan access log', () => {
  it('writes one combined line per request, ending with the request id', async () => {
    const lines = await accessLines({}, async (app) => {
      await request(app)
        .get('/api/probe?name=x&token=secret-query')
        .set('X-Request-Id', 'req-7')
        .set('User-Agent', 'probe-agent')
        .expect(200);
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\S+ - - \[[^\]]+\] "GET \/api\/probe\?name=x&token=\[redacted\] HTTP\/1\.1" 200 \d+ "-" "probe-agent" req-7$/,
    );
    expect(lines[0]).not.toContain('secret-query');
  });

  it('believes X-Forwarded-For only when TRUST_PROXY trusts the proxy', async () => {
    const send = (app: Awaited<ReturnType<typeof createApp>>) =>
      request(app).get('/api/probe').set('X-Forwarded-For', '203.0.113.9').expect(200);
    const untrusted = await accessLines({}, send);
    expect(untrusted[0]).not.toContain('203.0.113.9');
    vi.restoreAllMocks();
    const trusted = await accessLines({ TRUST_PROXY: '1' }, send);
    expect(trusted[0]?.startsWith('203.0.113.9 ')).toBe(true);
  });

  it('MORGAN_FORMAT=common leaves out referrer and user agent', async () => {
    const lines = await accessLines({ MORGAN_FORMAT: 'common' }, async (app) => {
      await request(app).get('/nowhere').set('X-Request-Id', 'req-8').expect(404);
    });
    expect(lines[0]).toMatch(/"GET \/nowhere HTTP\/1\.1" 404 \d+ req-8$/);
  });

  it('refuses an unknown MORGAN_FORMAT', () => {
    expect(() => testContext({ MORGAN_FORMAT: 'fancy' })).toThrow(/MORGAN_FORMAT must be one of/);
  });
});
