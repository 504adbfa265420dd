import type { Response } from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Feature } from '../src/feature.js';
import {
  Database,
  DatabaseUnavailableError,
  PRIMARY_COOKIE,
  type Db,
  type Target,
} from '../src/features/postgres/database.js';
import type { Replica } from '../src/features/postgres/replicas.js';
import { readPostgresSettings } from '../src/features/postgres/settings.js';
import { testContext } from './helpers.js';

const config = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...env });

describe('postgres settings', () => {
  it('needs DATABASE_URL in production; PGlite in development and tests', () => {
    const production = { NODE_ENV: 'production' };
    expect(() => readPostgresSettings(production, config(production))).toThrow(
      /DATABASE_URL is required/,
    );
    expect(readPostgresSettings({}, config({})).pglite).toBe('memory');
    expect(readPostgresSettings({ DATABASE_URL: 'pglite:memory' }, config(production)).pglite).toBe(
      'memory',
    );
  });

  it('reads the primary, the replicas and the pool budget', () => {
    const env = {
      DATABASE_URL: 'postgres://app@db/app',
      DATABASE_REPLICA_URLS: 'postgres://app@r1/app, postgres://app@r2/app',
      DATABASE_POOL_MAX: '4',
      DATABASE_MAX_REPLICA_LAG_MS: '1000',
    };
    const settings = readPostgresSettings(env, config(env));
    expect(settings).toMatchObject({
      primaryUrl: env.DATABASE_URL,
      poolMax: 4,
      maxReplicaLagMs: 1000,
    });
    expect(settings.replicaUrls).toEqual(['postgres://app@r1/app', 'postgres://app@r2/app']);
    expect(settings.readYourWritesMs).toBeGreaterThan(1000);
  });

  it('refuses a bad URL, a replica without primary and a pool of 0, naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ DATABASE_URL: 'mysql://x/y' }, /^DATABASE_URL must be a postgres:\/\/ URL/],
      [{ DATABASE_REPLICA_URLS: 'postgres://r/app' }, /^DATABASE_REPLICA_URLS needs DATABASE_URL/],
      [{ DATABASE_URL: 'postgres://db/app', DATABASE_POOL_MAX: '0' }, /^DATABASE_POOL_MAX must be/],
    ];
    for (const [env, message] of cases) {
      expect(() => readPostgresSettings(env, config(env))).toThrow(message);
    }
  });
});

describe('query routing', () => {
  /** A fake server that records which queries it ran. */
  function target(name: string, log: string[], up = true): Target {
    return {
      name,
      run: (work) => {
        if (!up) return Promise.reject(new DatabaseUnavailableError(name));
        log.push(name);
        return work({} as Db);
      },
      ping: () => Promise.resolve(),
    };
  }
  function replica(name: string, log: string[], healthy = true, up = true): Replica {
    return { healthy, server: target(name, log, up) } as unknown as Replica;
  }
  function response(cookie?: string): Response {
    const headers: Record<string, string> = cookie ? { cookie } : {};
    return {
      locals: {},
      headersSent: false,
      req: { headers },
      cookie: vi.fn(),
    } as unknown as Response;
  }
  const query = () => Promise.resolve('rows');

  it('reads on a healthy replica; writes, and reads after a write, on the primary', async () => {
    const log: string[] = [];
    const database = new Database(
      target('primary', log),
      [replica('r1', log), replica('r2', log, false)],
      7000,
    );
    const res = response();
    await database.read(res, query);
    await database.read(res, query);
    expect(log).toEqual(['r1', 'r1']);
    await database.write(res, query);
    await database.read(res, query);
    expect(log.slice(2)).toEqual(['primary', 'primary']);
    expect(res.cookie).toHaveBeenCalledWith(
      PRIMARY_COOKIE,
      expect.any(String),
      expect.objectContaining({ maxAge: 7000 }),
    );
  });

  it('reads on the primary for a client whose cookie is still valid', async () => {
    const log: string[] = [];
    const database = new Database(target('primary', log), [replica('r1', log)], 7000);
    await database.read(response(`a=1; ${PRIMARY_COOKIE}=${Date.now() + 5000}`), query);
    await database.read(response(`${PRIMARY_COOKIE}=${Date.now() - 1}`), query);
    expect(log).toEqual(['primary', 'r1']);
  });

  it('falls back to the primary when no replica is healthy or the chosen one fails', async () => {
    const log: string[] = [];
    const none = new Database(target('primary', log), [replica('r1', log, false)], 7000);
    await none.read(response(), query);
    const failing = new Database(target('primary', log), [replica('r1', log, true, false)], 7000);
    await failing.read(response(), query);
    expect(log).toEqual(['primary', 'primary']);
  });

  it('fails a write fast with 503 and Retry-After when the primary is unavailable', async () => {
    const database = new Database(target('primary', [], false), [], 7000);
    const error = await database.write(response(), query).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error).toMatchObject({ status: 503, headers: { 'Retry-After': '2' } });
  });
});

describe('an unavailable database', () => {
  it('answers 503 with Retry-After, so that clients back off', async () => {
    const route: Feature = {
      name: 'route',
      setup(app) {
        app.post('/write', () => {
          throw new DatabaseUnavailableError('primary');
        });
      },
    };
    const res = await request(await createApp(testContext({}, [route]), [route]))
      .post('/write')
      .expect(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.body).toMatchObject({ error: 'Service Unavailable' });
  });
});
