/**
 * The engine behind `add` and `remove`, in process, against fixture features (so that the cases
 * do not depend on the real features' templates): new files, 3-way merges of the shared files,
 * idempotence, requirements and conflicts, edited files as conflicts (and --force), dry runs and
 * the journal that makes a hard-killed run recoverable.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

vi.mock('../../src/features/index.js', () => import('./fixtures/grow-features.js'));
vi.mock('../../src/paths.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/paths.js')>();
  const { fixtureTemplatesDir } = await import('./fixtures/grow-features.js');
  return { ...original, templatesDir: fixtureTemplatesDir(original.templatesDir) };
});

const { addFeatures } = await import('../../src/actions/add.js');
const { removeFeatures } = await import('../../src/actions/remove.js');
const { listFeatures } = await import('../../src/actions/list.js');
const { FailedError, UsageError } = await import('../../src/errors.js');
const { hashContent, MANIFEST_FILE, readManifest } = await import('../../src/manifest.js');
const { commitChanges } = await import('../../src/tree/commit.js');
const { JOURNAL_FILE, recoverJournal, writeJournal } = await import('../../src/tree/journal.js');
const { planChanges } = await import('../../src/tree/plan.js');
const { createOutput } = await import('../../src/ui/output.js');

const quiet = createOutput({ json: true, quiet: true });
const parent = mkdtempSync(join(tmpdir(), 'cse-grow-unit-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

let dir: string;
let counter = 0;

async function create(features: string[], name = `p${++counter}`, under = parent): Promise<string> {
  const root = join(under, name);
  const plan = await planChanges({
    target: { name, port: 3000, packageManager: 'npm', features },
    readCurrent: async () => undefined,
    force: false,
  });
  await commitChanges(root, plan.changes);
  return root;
}

const options = (features: string[], extra: { dryRun?: boolean; force?: boolean } = {}) => ({
  features,
  directory: dir,
  dryRun: false,
  force: false,
  install: false,
  verify: false,
  json: true,
  verbose: false,
  ...extra,
});
const add = (features: string[], extra?: { dryRun?: boolean; force?: boolean }) =>
  addFeatures(options(features, extra), quiet);
const remove = (features: string[], extra?: { dryRun?: boolean; force?: boolean }) =>
  removeFeatures(options(features, extra), quiet);

/** Every file under root (relative path → content). */
function snapshot(root: string): Map<string, string> {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
  return new Map(files.sort().map((f) => [f, readFileSync(join(root, f), 'utf8')]));
}
type Compose = { services: Record<string, unknown>; volumes?: unknown };
const read = (path: string): string => readFileSync(join(dir, path), 'utf8');
const write = (path: string, text: string): void => writeFileSync(join(dir, path), text);
const pkg = (): {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  [key: string]: unknown;
} => JSON.parse(read('package.json'));

beforeEach(async () => {
  dir = await create([]);
});

describe('add', () => {
  it('creates the feature files and merges every shared file', async () => {
    const result = await add(['alpha']);
    expect(result.added).toEqual(['alpha']);
    expect(result.features).toEqual(['alpha']);
    expect(read('alpha.txt')).toBe('alpha\n');
    expect(read('src/features/alpha.ts')).toContain("name: 'alpha'");
    expect(pkg().dependencies.redis).toBeDefined();
    expect(pkg().scripts.alpha).toBe('node alpha.js');
    expect(read('.env.example')).toContain('ALPHA_URL=redis://127.0.0.1:6379');
    expect(read('README.md')).toContain('<!-- section:alpha -->');
    expect(read('src/features/index.ts')).toContain("import alpha from './alpha.js';");
    const manifest = await readManifest(dir);
    expect(manifest.features).toEqual(['alpha']);
    expect(manifest.files['alpha.txt']).toBe(hashContent('alpha\n'));
    expect(result.files.map((f) => f.path)).toContain('alpha.txt');
    expect(existsSync(join(dir, JOURNAL_FILE))).toBe(false);
  });

  it('ends with the same files as create with those features', async () => {
    await add(['alpha']);
    await add(['docker']);
    await add(['beta']);
    // The same name in another folder: the name is part of package.json and README.md.
    const created = await create(['alpha', 'beta', 'docker'], basename(dir), join(parent, 'fresh'));
    const grown = snapshot(dir);
    const fresh = snapshot(created);
    expect([...grown.keys()]).toEqual([...fresh.keys()]);
    for (const [path, content] of fresh) {
      if (path === MANIFEST_FILE) continue;
      if (path === 'package.json') {
        expect(JSON.parse(grown.get(path) ?? ''), path).toEqual(JSON.parse(content));
      } else if (path === 'docker-compose.yml') {
        expect(parseYaml(grown.get(path) ?? '')).toEqual(parseYaml(content));
      } else if (path === '.env.example' || path === 'README.md') {
        const parts = (text: string) => new Set(text.split(/\n{2,}/).map((p) => p.trim()));
        expect(parts(grown.get(path) ?? ''), path).toEqual(parts(content));
      } else {
        expect(grown.get(path), path).toBe(content);
      }
    }
    const a = await readManifest(dir);
    const b = await readManifest(created);
    expect(a.features).toEqual(b.features);
    // Merged files may differ in order only; every other hash is the same.
    for (const [path, hash] of Object.entries(b.files)) {
      if (!['package.json', 'README.md', '.env.example', 'docker-compose.yml'].includes(path))
        expect(a.files[path], path).toBe(hash);
    }
    expect(Object.keys(a.files)).toEqual(Object.keys(b.files));
  });

  it("keeps the user's own changes to shared and untouched files", async () => {
    const p = pkg();
    p.scripts.mine = 'echo mine';
    p.dependencies['left-pad'] = '^1.3.0';
    p.description = 'my service';
    write('package.json', `${JSON.stringify(p, null, 2)}\n`);
    write('.env.example', `${read('.env.example')}\n# my own\nMY_VAR=1\n`);
    write('README.md', `${read('README.md')}\n## My notes\n\nDo not lose me.\n`);
    write('src/app.ts', `${read('src/app.ts')}// my edit\n`);
    await add(['docker']);
    write(
      'docker-compose.yml',
      stringifyYaml({ ...parseYaml(read('docker-compose.yml')), volumes: { data: {} } }),
    );
    await add(['beta']);
    const after = pkg();
    expect(after.scripts.mine).toBe('echo mine');
    expect(after.dependencies['left-pad']).toBe('^1.3.0');
    expect(after.description).toBe('my service');
    expect(after.dependencies['lru-cache']).toBeDefined();
    expect(after.scripts.beta).toBe('node beta.js');
    expect(read('.env.example')).toContain('MY_VAR=1');
    expect(read('.env.example')).toContain('BETA_TTL=60');
    expect(read('README.md')).toContain('Do not lose me.');
    expect(read('README.md')).toContain('<!-- section:beta -->');
    expect(read('src/app.ts')).toMatch(/\/\/ my edit\n$/);
    const compose = parseYaml(read('docker-compose.yml')) as Compose;
    expect(compose.volumes).toEqual({ data: {} });
    expect(Object.keys(compose.services).sort()).toEqual(['alpha', 'app', 'beta']);
    // Written like render/compose.ts: YAML 1.1 quoting ('no' is a boolean there) and single quotes.
    expect(read('docker-compose.yml')).toContain("- 'no'");
    expect(read('docker-compose.yml')).toMatch(/^ {4}build: \.$/m); // the user's plain style stays
  });

  it('adds required features and is idempotent', async () => {
    const first = await add(['beta']);
    expect(first.added).toEqual(['alpha', 'beta']);
    const before = snapshot(dir);
    const second = await add(['beta', 'alpha']);
    expect(second.added).toEqual([]);
    expect(second.files).toEqual([]);
    expect(snapshot(dir)).toEqual(before);
    // The plan itself is empty too: nothing to write, manifest included.
    const manifest = await readManifest(dir);
    const plan = await planChanges({
      target: { ...manifest.project, features: manifest.features },
      manifest,
      readCurrent: async (p) => (existsSync(join(dir, p)) ? readFileSync(join(dir, p)) : undefined),
      force: false,
    });
    expect(plan.changes).toEqual([]);
  });

  it('refuses unknown and conflicting features, writing nothing', async () => {
    const before = snapshot(dir);
    await expect(add(['alpah'])).rejects.toThrow(/Unknown feature "alpah". Did you mean "alpha"/);
    await expect(add(['alpha', 'gamma'])).rejects.toThrow(UsageError);
    await add(['alpha']);
    const withAlpha = snapshot(dir);
    const error = await add(['gamma']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/"gamma".*conflicts with the installed "alpha"/);
    expect(snapshot(dir)).toEqual(withAlpha);
    expect(before.size).toBeLessThan(withAlpha.size);
  });

  it('a generated file the user edited that must change is a conflict; --force keeps .orig', async () => {
    await add(['alpha']);
    write('alpha.txt', 'alpha, edited by me\n');
    const before = snapshot(dir);
    const error = await add(['beta']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedError);
    const failed = error as InstanceType<typeof FailedError>;
    expect(failed.exitCode).toBe(1);
    expect(failed.message).toContain('alpha.txt');
    const details = failed.details.join('\n');
    expect(details).toContain('-alpha, edited by me');
    expect(details).toContain('+alpha with beta');
    expect(snapshot(dir)).toEqual(before);

    const forced = await add(['beta'], { force: true });
    expect(forced.conflicts).toEqual(['alpha.txt']);
    expect(read('alpha.txt')).toBe('alpha with beta\n');
    expect(read('alpha.txt.orig')).toBe('alpha, edited by me\n');
    expect((await readManifest(dir)).features).toEqual(['alpha', 'beta']);
  });

  it('the app registry is rewritten, and is a conflict when the user edited it', async () => {
    await add(['alpha']);
    write('src/features/index.ts', `${read('src/features/index.ts')}// mine\n`);
    await expect(add(['beta'])).rejects.toThrow(/src\/features\/index\.ts/);
    expect(read('src/features/index.ts')).toMatch(/\/\/ mine\n$/);
  });

  it('--dry-run prints a unified diff and writes nothing', async () => {
    const before = snapshot(dir);
    const result = await add(['alpha'], { dryRun: true });
    expect(snapshot(dir)).toEqual(before);
    expect(result.diff).toContain('+++ b/alpha.txt');
    expect(result.diff).toContain('+ALPHA_URL=redis://127.0.0.1:6379');
    expect(result.diff).toMatch(/\+\s+"redis": /);
    expect(result.files.map((f) => f.path)).toContain('src/features/alpha.ts');
  });

  it('a folder without a manifest is a usage error', async () => {
    dir = join(parent, 'empty');
    await expect(add(['alpha'])).rejects.toThrow(/No \.scalable-express\.json/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('remove', () => {
  it('reverses add: back to the files of the project without the feature', async () => {
    const minimal = snapshot(dir);
    await add(['docker']);
    const withDocker = snapshot(dir);
    await add(['beta']);
    const result = await remove(['beta']);
    expect(result.removed).toEqual(['beta']);
    expect(result.features).toEqual(['alpha', 'docker']);
    expect(existsSync(join(dir, 'beta.txt'))).toBe(false);
    expect(existsSync(join(dir, 'src/features/beta.ts'))).toBe(false);
    expect(pkg().dependencies['lru-cache']).toBeUndefined();
    expect(pkg().scripts.beta).toBeUndefined();
    expect(read('.env.example')).not.toContain('BETA_TTL');
    expect(read('README.md')).not.toContain('section:beta');
    expect(Object.keys((parseYaml(read('docker-compose.yml')) as Compose).services)).toEqual([
      'app',
      'alpha',
    ]);
    expect(read('alpha.txt')).toBe('alpha\n');
    await remove(['alpha']);
    const withoutAlpha = snapshot(dir);
    expect([...withoutAlpha.keys()]).toEqual([...withDocker.keys()]);
    await remove(['docker']);
    const back = snapshot(dir);
    expect(back).toEqual(minimal);
    expect(existsSync(join(dir, 'docker-compose.yml'))).toBe(false);
  });

  it('refuses to remove a feature another installed feature requires', async () => {
    await add(['beta']);
    const before = snapshot(dir);
    await expect(remove(['alpha'])).rejects.toThrow(
      /Cannot remove "alpha": the installed "beta" requires it/,
    );
    expect(snapshot(dir)).toEqual(before);
    // Both at once is fine.
    const both = await remove(['alpha', 'beta']);
    expect(both.removed).toEqual(['alpha', 'beta']);
  });

  it('removing a feature that is not installed changes nothing', async () => {
    const before = snapshot(dir);
    const result = await remove(['alpha']);
    expect(result.removed).toEqual([]);
    expect(result.files).toEqual([]);
    expect(snapshot(dir)).toEqual(before);
  });

  it('keeps user changes and treats an edited file it must delete as a conflict', async () => {
    await add(['alpha']);
    write('src/features/alpha.ts', '// I changed alpha\n');
    const p = pkg();
    p.scripts.mine = 'echo mine';
    write('package.json', `${JSON.stringify(p, null, 2)}\n`);
    await expect(remove(['alpha'])).rejects.toThrow(/src\/features\/alpha\.ts/);
    expect(read('src/features/alpha.ts')).toBe('// I changed alpha\n');
    await remove(['alpha'], { force: true });
    expect(existsSync(join(dir, 'src/features/alpha.ts'))).toBe(false);
    expect(read('src/features/alpha.ts.orig')).toBe('// I changed alpha\n');
    expect(pkg().scripts).toMatchObject({ mine: 'echo mine' });
    expect(pkg().scripts.alpha).toBeUndefined();
  });
});

describe("remove and the user's own code", () => {
  it('refuses before writing (exit 1) when a user file imports a file it would delete', async () => {
    await add(['alpha']);
    mkdirSync(join(dir, 'src/routes'), { recursive: true });
    write(
      'src/routes/mine.ts',
      "import alpha from '../features/alpha.js';\nexport const a = alpha;\n",
    );
    mkdirSync(join(dir, 'test'), { recursive: true });
    write('test/mine.test.ts', "const m = await import('../src/features/alpha.js');\nvoid m;\n");
    const before = snapshot(dir);
    const error = await remove(['alpha']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedError);
    const failed = error as InstanceType<typeof FailedError>;
    expect(failed.exitCode).toBe(1);
    expect(failed.message).toContain('src/routes/mine.ts imports src/features/alpha.ts');
    expect(failed.details).toContain(
      'test/mine.test.ts imports src/features/alpha.ts, which it would delete',
    );
    expect(snapshot(dir)).toEqual(before);
    // Once the import is gone, remove goes ahead.
    rmSync(join(dir, 'src/routes/mine.ts'));
    rmSync(join(dir, 'test/mine.test.ts'));
    expect((await remove(['alpha'])).removed).toEqual(['alpha']);
  });

  it('imports of files that stay, and the generated registry being rewritten, are fine', async () => {
    await add(['alpha']);
    write('src/mine.ts', "import { createApp } from './app.js';\nexport const app = createApp;\n");
    expect((await remove(['alpha'])).removed).toEqual(['alpha']);
  });
});

describe("the user's own files (createOnly) and packages", () => {
  it("add writes an added feature's examples that are missing, as the user's (not in the manifest)", async () => {
    const result = await add(['gamma']);
    expect(read('src/routes/gamma.ts')).toContain("import { z } from 'zod';");
    expect(result.files.map((f) => f.path)).toContain('src/routes/gamma.ts');
    expect((await readManifest(dir)).files['src/routes/gamma.ts']).toBeUndefined();
    // The user's file is theirs: removing the feature leaves it (once it no longer imports zod).
    write('src/routes/gamma.ts', 'export const mine = 1;\n');
    await remove(['gamma']);
    expect(read('src/routes/gamma.ts')).toBe('export const mine = 1;\n');
    // An existing file of that name is never overwritten, nor a conflict.
    const again = await add(['gamma']);
    expect(again.conflicts).toEqual([]);
    expect(read('src/routes/gamma.ts')).toBe('export const mine = 1;\n');
  });

  it('remove refuses before writing (exit 1) when a user file imports a package it would drop', async () => {
    await add(['gamma']);
    const before = snapshot(dir);
    const error = await remove(['gamma']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedError);
    const failed = error as InstanceType<typeof FailedError>;
    expect(failed.exitCode).toBe(1);
    expect(failed.message).toContain(
      'src/routes/gamma.ts imports the package zod, which it would drop from package.json',
    );
    expect(failed.message).toMatch(/Delete or move .*then re-run/);
    expect(failed.message).not.toContain('\n');
    expect(snapshot(dir)).toEqual(before);
    rmSync(join(dir, 'src/routes/gamma.ts'));
    expect((await remove(['gamma'])).removed).toEqual(['gamma']);
    expect(pkg().dependencies.zod).toBeUndefined();
  });

  it('only packages that leave package.json count; subpaths and type imports do', async () => {
    await add(['beta']);
    mkdirSync(join(dir, 'src/lib'), { recursive: true });
    write(
      'src/lib/cache.ts',
      "import { createClient } from 'redis';\nimport type { LRUCache } from 'lru-cache/raw';\nimport { readFile } from 'node:fs';\nexport type C = LRUCache<string, string>;\nexport { createClient, readFile };\n",
    );
    const error = (await remove(['beta']).catch((e: unknown) => e)) as InstanceType<
      typeof FailedError
    >;
    expect(error.message).toContain('src/lib/cache.ts imports the package lru-cache');
    expect(error.details).toHaveLength(1);
    // redis stays (alpha needs it): importing it is fine.
    write('src/lib/cache.ts', "export { createClient } from 'redis';\n");
    expect((await remove(['beta'])).removed).toEqual(['beta']);
  });
});

describe('list', () => {
  it('lists every feature, and inside a project whether it is installed', async () => {
    await add(['alpha']);
    const inside = await listFeatures({ directory: dir, explicit: true, json: true }, quiet);
    expect(inside.features.map((f) => [f.id, f.installed])).toEqual([
      ['alpha', true],
      ['beta', false],
      ['gamma', false],
      ['docker', false],
    ]);
    expect(inside.features.find((f) => f.id === 'beta')?.requires).toEqual(['alpha']);
    expect(inside.features.find((f) => f.id === 'gamma')?.conflicts).toEqual(['alpha']);
    const outside = await listFeatures({ directory: parent, explicit: false, json: true }, quiet);
    expect(outside.features.every((f) => f.installed === undefined)).toBe(true);
    await expect(
      listFeatures({ directory: parent, explicit: true, json: true }, quiet),
    ).rejects.toThrow(UsageError);
  });
});

describe('journal', () => {
  /** Plans `add beta` on the current project and returns the changes. */
  async function plannedAddBeta() {
    const manifest = await readManifest(dir);
    return (
      await planChanges({
        target: { ...manifest.project, features: ['alpha', 'beta', 'docker'] },
        manifest,
        readCurrent: async (p) =>
          existsSync(join(dir, p)) ? readFileSync(join(dir, p)) : undefined,
        force: false,
      })
    ).changes;
  }

  /** Applies the first `count` changes the way commitChanges would, then "dies". */
  async function crashAfter(changes: Awaited<ReturnType<typeof plannedAddBeta>>, count: number) {
    await writeJournal(dir, 'add', changes);
    await commitChanges(dir, changes.slice(0, count));
  }

  it('rolls a hard-killed run back to the old project, at any point of the write', async () => {
    await add(['alpha']);
    await add(['docker']);
    const old = snapshot(dir);
    const changes = await plannedAddBeta();
    expect(changes.length).toBeGreaterThan(4);
    expect(changes.at(-1)?.path).toBe(MANIFEST_FILE);
    for (const count of [0, 1, Math.floor(changes.length / 2), changes.length]) {
      await crashAfter(changes, count);
      expect(existsSync(join(dir, JOURNAL_FILE))).toBe(true);
      const recovery = await recoverJournal(dir);
      expect(recovery?.command).toBe('add');
      expect(snapshot(dir), `crash after ${count} files`).toEqual(old);
      expect(existsSync(join(dir, 'src/features/beta.ts'))).toBe(false);
    }
    // Created folders go too (beta.ts was the only file in none here, so check a new one).
    expect(await recoverJournal(dir)).toBeUndefined();
  });

  it('removes folders the interrupted run created, but keeps ones with the user files', async () => {
    const changes = [
      { path: 'new/deep/file.txt', action: 'create' as const, content: 'x' },
      { path: 'other/file.txt', action: 'create' as const, content: 'y' },
    ];
    await crashAfter(changes, 2);
    writeFileSync(join(dir, 'other', 'mine.txt'), 'mine');
    await recoverJournal(dir);
    expect(existsSync(join(dir, 'new'))).toBe(false);
    expect(existsSync(join(dir, 'other/file.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'other/mine.txt'), 'utf8')).toBe('mine');
  });

  it('add, remove and list recover first and say so', async () => {
    await add(['alpha']);
    await add(['docker']);
    const old = snapshot(dir);
    const changes = await plannedAddBeta();
    const cutShort = async () => {
      await crashAfter(changes, changes.length - 1); // everything but the manifest
      expect(read('beta.txt')).toBe('beta\n');
    };

    await cutShort();
    const listed = await listFeatures({ directory: dir, explicit: false, json: true }, quiet);
    expect(listed.recovered?.restored.length).toBe(changes.length - 1);
    expect(listed.features.find((f) => f.id === 'beta')?.installed).toBe(false);
    expect(snapshot(dir)).toEqual(old);

    // remove works on the recovered project: docker goes, beta was never there.
    await cutShort();
    const removed = await remove(['docker']);
    expect(removed.recovered?.command).toBe('add');
    expect(removed.removed).toEqual(['docker']);
    expect(existsSync(join(dir, 'beta.txt'))).toBe(false);
    expect((await readManifest(dir)).features).toEqual(['alpha']);
    await add(['docker']);
    expect(snapshot(dir)).toEqual(old);

    await crashAfter(changes, changes.length); // manifest written, journal not yet deleted
    const again = await add(['beta']);
    expect(again.recovered?.command).toBe('add');
    expect(again.added).toEqual(['beta']);
    expect(read('beta.txt')).toBe('beta\n');
    expect(existsSync(join(dir, JOURNAL_FILE))).toBe(false);
  });

  it('a folder where a new file must go fails before anything is written (the old project, no journal)', async () => {
    await add(['alpha']);
    // Reading beta.txt to plan fails (EISDIR). A failure half-way through writing is in
    // grow-action.test.ts and engine-disk-full.test.ts.
    mkdirSync(join(dir, 'beta.txt'));
    const old = snapshot(dir);
    await expect(add(['beta'])).rejects.toThrow(/EISDIR/);
    expect(snapshot(dir)).toEqual(old);
    expect(existsSync(join(dir, JOURNAL_FILE))).toBe(false);
    expect((await readManifest(dir)).features).toEqual(['alpha']);
  });

  it('a half-written journal (no project file touched yet) is discarded', async () => {
    const before = snapshot(dir);
    writeFileSync(join(dir, JOURNAL_FILE), '{"generator": "create-scal');
    const recovery = await recoverJournal(dir);
    expect(recovery?.restored).toEqual([]);
    expect(existsSync(join(dir, JOURNAL_FILE))).toBe(false);
    expect(snapshot(dir)).toEqual(before);
  });
});
