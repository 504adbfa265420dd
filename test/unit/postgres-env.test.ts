/**
 * DATABASE_URL=pglite:memory comes from the postgres feature only: a project without it never
 * mentions PGlite or DATABASE_URL (generated test config, test helpers, verify's boot).
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
