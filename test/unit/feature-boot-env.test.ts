/**
 * The variables that let a production boot run without outside services come from their
 * features only: DATABASE_URL=pglite:memory from postgres, QUEUE_IN_PROCESS=true from queue. A
 * project without the feature never mentions them (generated test config, test helpers, verify's
 * boot).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderProject } from '../../src/render/render.js';
import { commitChanges } from '../../src/tree/commit.js';
import { planChanges } from '../../src/tree/plan.js';
import { featureBootEnv } from '../../src/verify/boot-env.js';

const parent = mkdtempSync(join(tmpdir(), 'cse-pg-env-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));
const input = (features: string[]) => ({
  name: 'demo',
  port: 3000,
  packageManager: 'npm' as const,
  features,
});

describe('QUEUE_IN_PROCESS for jobs without Redis', () => {
  it('is in no file of a project without queue', async () => {
    const tree = await renderProject(input(['redis', 'metrics', 'pm2']));
    const mentions = [...tree].filter(([, text]) => text.includes('QUEUE_IN_PROCESS'));
    expect(mentions.map(([path]) => path)).toEqual([]);
  });

  it("is in the generated test config and helpers, and in verify's boot, with queue", async () => {
    const tree = await renderProject(input(['redis', 'queue']));
    expect(tree.get('vitest.config.ts')).toContain("QUEUE_IN_PROCESS: 'true'");
    expect(tree.get('test/helpers.ts')).toContain("QUEUE_IN_PROCESS: 'true'");
    const plan = await planChanges({
      target: { ...input(['redis', 'queue']), name: 'with-queue' },
      readCurrent: async () => undefined,
      force: false,
    });
    await commitChanges(join(parent, 'with-queue'), plan.changes);
    expect(await featureBootEnv(join(parent, 'with-queue'))).toEqual({ QUEUE_IN_PROCESS: 'true' });
  });
});

describe('DATABASE_URL for the embedded database', () => {
  it('is in no file of a project without postgres', async () => {
    const tree = await renderProject(input(['redis', 'metrics', 'pm2']));
    const mentions = [...tree].filter(([, text]) => /pglite|DATABASE_URL/i.test(text));
    expect(mentions.map(([path]) => path)).toEqual([]);
  });

  it('is in the generated test config and helpers with postgres', async () => {
    const tree = await renderProject(input(['postgres']));
    expect(tree.get('vitest.config.ts')).toContain("DATABASE_URL: 'pglite:memory'");
    expect(tree.get('test/helpers.ts')).toContain("DATABASE_URL: 'pglite:memory'");
  });

  it("verify's boot gets it from the project's features only", async () => {
    for (const [name, features, env] of [
      ['plain', ['redis'], {}],
      ['with-db', ['postgres'], { DATABASE_URL: 'pglite:memory' }],
    ] as const) {
      const plan = await planChanges({
        target: { ...input([...features]), name },
        readCurrent: async () => undefined,
        force: false,
      });
      await commitChanges(join(parent, name), plan.changes);
      expect(await featureBootEnv(join(parent, name)), name).toEqual(env);
    }
  });
});
