import { describe, expect, it } from 'vitest';
import type { Feature } from '../src/feature.js';
import { startServer } from '../src/server.js';
import { testContext } from './helpers.js';

describe('graceful shutdown', () => {
  it('lets an in-flight request finish, then closes and runs feature shutdowns', async () => {
    const events: string[] = [];
    const slow: Feature = {
      name: 'slow',
      setup(app) {
        app.get('/slow', async (_req, res) => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          res.json({ done: true });
        });
      },
      shutdown() {
        events.push('feature shutdown');
      },
    };
    const running = await startServer(testContext({ PORT: '0', HOST: '127.0.0.1' }), [slow]);
    const base = `http://127.0.0.1:${running.port}`;
    expect(running.server.keepAliveTimeout).toBeGreaterThan(60_000);

    const inFlight = fetch(`${base}/slow`).then((r) => r.json());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = running.stop().then(() => events.push('stopped'));

    expect(await inFlight).toEqual({ done: true });
    await stopped;
    expect(events).toEqual(['feature shutdown', 'stopped']);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
