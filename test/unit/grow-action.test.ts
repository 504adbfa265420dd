/**
 * The `add`/`remove` action itself journals its writes (issue: the unit tests used to write the
 * journal by hand, so removing the action's writeJournal call went unnoticed). commitChanges is
 * wrapped so that a test can look at the disk at the moment writing starts, or "die" half-way.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileChange } from '../../src/tree/plan.js';

type Hook = (root: string, changes: readonly FileChange[]) => Promise<void>;
const hooks = vi.hoisted(() => ({ beforeCommit: undefined as Hook | undefined }));

vi.mock('../../src/features/index.js', () => import('./fixtures/grow-features.js'));
vi.mock('../../src/paths.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/paths.js')>();
  const { fixtureTemplatesDir } = await import('./fixtures/grow-features.js');
  return { ...original, templatesDir: fixtureTemplatesDir(original.templatesDir) };
});
vi.mock('../../src/tree/commit.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/tree/commit.js')>();
  return {
    ...original,
    commitChanges: async (...args: Parameters<typeof original.commitChanges>) => {
      await hooks.beforeCommit?.(args[0], args[1]);
      return original.commitChanges(...args);
    },
  };
});

const { addFeatures } = await import('../../src/actions/add.js');
const { removeFeatures } = await import('../../src/actions/remove.js');
const { commitChanges } = await import('../../src/tree/commit.js');
const { JOURNAL_FILE } = await import('../../src/tree/journal.js');
const { planChanges } = await import('../../src/tree/plan.js');
const { createOutput } = await import('../../src/ui/output.js');

const quiet = createOutput({ json: true, quiet: true });
const parent = mkdtempSync(join(tmpdir(), 'cse-grow-action-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));
afterEach(() => {
  hooks.beforeCommit = undefined;
});

let dir: string;
let counter = 0;
beforeEach(async () => {
  dir = join(parent, `p${++counter}`);
  const plan = await planChanges({
    target: { name: 'svc', port: 3000, packageManager: 'npm', features: [] },
    readCurrent: async () => undefined,
    force: false,
  });
  await commitChanges(dir, plan.changes);
});

function snapshot(root: string): Map<string, Buffer> {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
  return new Map(files.sort().map((f) => [f, readFileSync(join(root, f))]));
}

const options = (features: string[]) => ({
  features,
  directory: dir,
  dryRun: false,
  force: false,
  install: false,
  verify: false,
  json: true,
  verbose: false,
});

interface JournalOnDisk {
  command: string;
  entries: { path: string; oldBase64: string | null }[];
}

describe('the action journals its own writes', () => {
  for (const [command, run] of [
    ['add', () => addFeatures(options(['alpha']), quiet)],
    ['remove', () => removeFeatures(options(['alpha']), quiet)],
  ] as const) {
    it(`${command}: before the first write, the journal on disk holds every change and its old bytes`, async () => {
      if (command === 'remove') await addFeatures(options(['alpha']), quiet);
      let seen: JournalOnDisk | undefined;
      let planned: readonly FileChange[] = [];
      hooks.beforeCommit = async (root, changes) => {
        planned = changes;
        const file = join(root, JOURNAL_FILE);
        if (existsSync(file)) seen = JSON.parse(readFileSync(file, 'utf8')) as JournalOnDisk;
        // The old bytes recorded must be what is on disk right now.
        for (const entry of seen?.entries ?? []) {
          const now = existsSync(join(root, entry.path))
            ? readFileSync(join(root, entry.path))
            : null;
          expect(entry.oldBase64, entry.path).toBe(now?.toString('base64') ?? null);
        }
      };
      await run();
      expect(seen, 'no journal on disk when writing started').toBeDefined();
      expect(seen?.command).toBe(command);
      expect(seen?.entries.map((e) => e.path)).toEqual(planned.map((c) => c.path));
      expect(planned.length).toBeGreaterThan(2);
      expect(existsSync(join(dir, JOURNAL_FILE))).toBe(false); // cleared after success
    });
  }

  it('a write that fails half-way (a folder appeared where a file goes) leaves the old project and no journal', async () => {
    const before = snapshot(dir);
    let written = 0;
    hooks.beforeCommit = async (root, changes) => {
      // Planned and journaled; now the last new file's place is taken, so its write fails
      // after the files before it were written.
      const last = changes.filter((c) => c.action === 'create').at(-1)!;
      mkdirSync(join(root, last.path), { recursive: true });
      written = changes.indexOf(last);
    };
    await expect(addFeatures(options(['alpha']), quiet)).rejects.toThrow(/EEXIST|EISDIR/);
    expect(written).toBeGreaterThan(0);
    const after = snapshot(dir);
    expect(after).toEqual(before);
    expect(existsSync(join(dir, JOURNAL_FILE))).toBe(false);
  });

  it('a run that dies half-way through writing (no rollback of its own) is undone from the journal', async () => {
    const before = snapshot(dir);
    hooks.beforeCommit = async (root, changes) => {
      // Half the files written, then "killed": commitChanges never runs its own rollback.
      for (const change of changes.slice(0, Math.ceil(changes.length / 2)))
        if (change.action !== 'delete' && !change.path.includes('/'))
          writeFileSync(join(root, change.path), change.content ?? '');
      throw new Error('killed');
    };
    await expect(addFeatures(options(['alpha']), quiet)).rejects.toThrow('killed');
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(join(dir, JOURNAL_FILE))).toBe(false);
  });
});
