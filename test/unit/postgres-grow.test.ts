/**
 * `add postgres` and `remove postgres` on real templates, in process (no install): add writes
 * the feature's examples for the user, and remove refuses while the user's files still import
 * the packages it would drop (the examples import drizzle-orm and zod).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addFeatures } from '../../src/actions/add.js';
import { removeFeatures } from '../../src/actions/remove.js';
import { FailedError } from '../../src/errors.js';
import { postgres } from '../../src/features/postgres/feature.js';
import { readManifest } from '../../src/manifest.js';
import { commitChanges } from '../../src/tree/commit.js';
import { planChanges } from '../../src/tree/plan.js';
import { createOutput } from '../../src/ui/output.js';

const quiet = createOutput({ json: true, quiet: true });
const parent = mkdtempSync(join(tmpdir(), 'cse-pg-grow-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

async function create(name: string, features: string[]): Promise<string> {
  const plan = await planChanges({
    target: { name, port: 3000, packageManager: 'npm', features },
    readCurrent: async () => undefined,
    force: false,
  });
  await commitChanges(join(parent, name), plan.changes);
  return join(parent, name);
}
const run = (action: typeof addFeatures, directory: string) =>
  action(
    {
      features: ['postgres'],
      directory,
      dryRun: false,
      force: false,
      install: false,
      verify: false,
      json: true,
      verbose: false,
    },
    quiet,
  );
function snapshot(root: string): Map<string, string> {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
  return new Map(files.sort().map((f) => [f, readFileSync(join(root, f), 'utf8')]));
}

describe('postgres on an existing project', () => {
  it('add writes the examples (the user owns them), remove refuses until they go', async () => {
    const dir = await create('grown', []);
    await run(addFeatures, dir);
    const manifest = await readManifest(dir);
    for (const path of postgres.createOnly ?? []) {
      expect(existsSync(join(dir, path)), path).toBe(true);
      expect(manifest.files[path], path).toBeUndefined();
    }
    const before = snapshot(dir);
    const error = (await run(removeFeatures, dir).catch((e: unknown) => e)) as FailedError;
    expect(error).toBeInstanceOf(FailedError);
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(
      /^Cannot remove "postgres": src\/db\/schema\.ts imports the package drizzle-orm, which it would drop from package\.json \(and \d+ more\)\. Delete or move/,
    );
    expect(error.details).toContain(
      'src/routes/items.ts imports the package zod, which it would drop from package.json',
    );
    expect(snapshot(dir)).toEqual(before);
    for (const path of ['src/db/schema.ts', 'src/routes/items.ts', 'test/items.test.ts'])
      rmSync(join(dir, path));
    expect((await run(removeFeatures, dir)).removed).toEqual(['postgres']);
    expect(existsSync(join(dir, 'src/features/postgres.ts'))).toBe(false);
  });

  it('a project created with postgres: removing it is refused the same way', async () => {
    const dir = await create('created', ['postgres']);
    const before = snapshot(dir);
    await expect(run(removeFeatures, dir)).rejects.toThrow(/src\/db\/schema\.ts imports/);
    expect(snapshot(dir)).toEqual(before);
  });
});
