/**
 * The proof for `add` and `remove`, end to end with the real CLI:
 * - minimal → add each feature one at a time, each with a real install and the full test-build
 *   (install, build, lint, test, boot: the CLI's own verify), keeping the user's edits to
 *   src/app.ts and README.md; then remove each feature the same way, back to the minimal files;
 * - adding several at once gives the same files as `create` with those features;
 * - an edited file the feature must change is a conflict (exit 1, untouched); --force keeps .orig;
 * - adding twice changes no file (git status).
 * File-level cases use --no-install (no node_modules needed).
 */
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startApp } from '../helpers/processes.js';
import { tempDir } from '../helpers/tmp.js';

/** The features this proof runs over (in the order they are added, then removed). */
const FEATURES = ['redis', 'rate-limit', 'metrics', 'winston'];

interface GrowDoc {
  ok: boolean;
  features: string[];
  added?: string[];
  removed?: string[];
  files: { path: string; action: string; bytes: number }[];
  conflicts: string[];
  steps: { name: string; status: string }[];
}

/** Files `add`/`remove` merge instead of overwriting, plus the app registry and the manifest. */
const SHARED = [
  'package.json',
  '.env.example',
  'README.md',
  'docker-compose.yml',
  'src/features/index.ts',
  '.scalable-express.json',
];
/** Files merged structurally (order inside them may differ from a fresh create). */
const MERGED = ['package.json', '.env.example', 'README.md', 'docker-compose.yml'];
const IGNORED = /^(node_modules|dist|\.git|coverage)(\/|$)|^package-lock\.json$/;

const parent = tempDir('cse-grow-e2e-');

async function cli(
  args: string[],
  cwd = parent,
): Promise<{ code: number; doc?: GrowDoc; err: string }> {
  const result = await runCli([...args, '--json'], {
    cwd,
    env: { npm_config_prefer_offline: 'true' },
  });
  let doc: GrowDoc | undefined;
  try {
    doc = JSON.parse(result.stdout) as GrowDoc;
  } catch {
    doc = undefined;
  }
  return { code: result.exitCode, doc, err: result.stderr };
}

async function create(name: string, features: string[], under = parent): Promise<string> {
  const args = features.length ? ['--features', features.join(',')] : ['--preset', 'minimal'];
  const result = await cli([name, ...args, '--yes', '--no-install', '--no-git'], under);
  expect(result.code, result.err).toBe(0);
  return join(under, name);
}

function tree(root: string): Map<string, string> {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((path) => !IGNORED.test(path));
  return new Map(files.sort().map((f) => [f, readFileSync(join(root, f), 'utf8')]));
}

/** Paragraphs (README sections, .env.example variables), order ignored. */
const paragraphs = (text: string): string[] =>
  text
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter(Boolean)
    .sort();

/** Compares two project trees file by file, ignoring order inside merged files. */
function expectSameProject(actual: string, expected: string, except: string[] = []): void {
  const a = tree(actual);
  const b = tree(expected);
  expect([...a.keys()].filter((p) => !except.includes(p))).toEqual(
    [...b.keys()].filter((p) => !except.includes(p)),
  );
  for (const [path, content] of b) {
    if (except.includes(path)) continue;
    const mine = a.get(path) ?? '';
    if (path === '.scalable-express.json') {
      // The version is the CLI's; merged files may differ in key or section order, so their
      // hashes may differ; every other recorded hash must be the same.
      type M = { project: unknown; features: string[]; files: Record<string, string> };
      const x = JSON.parse(mine) as M;
      const y = JSON.parse(content) as M;
      expect([x.project, x.features], path).toEqual([y.project, y.features]);
      expect(Object.keys(x.files), path).toEqual(Object.keys(y.files));
      for (const [file, hash] of Object.entries(y.files)) {
        if (!MERGED.includes(file) && !except.includes(file))
          expect(x.files[file], file).toBe(hash);
      }
    } else if (path === 'package.json') {
      expect(JSON.parse(mine), path).toEqual(JSON.parse(content));
    } else if (path === '.env.example' || path === 'README.md') {
      expect(paragraphs(mine), path).toEqual(paragraphs(content));
    } else {
      expect(mine, path).toBe(content);
    }
  }
}

async function git(dir: string, ...args: string[]): Promise<string> {
  return (await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir }))
    .stdout;
}

/** The user's own edits: a middleware in src/app.ts and notes in README.md. */
/** The line of src/app.ts the user's edit goes after. */
const ANCHOR = "  app.set('trust proxy', ctx.config.trustProxy);";
const APP_EDIT = [
  ANCHOR,
  '  app.use((_req, res, next) => {',
  "    res.setHeader('x-my-edit', 'kept');",
  '    next();',
  '  });',
].join('\n');
const README_EDIT = '\n## Our team notes\n\nOn call: the platform team. Keep this section.\n';

describe('add one feature at a time, then remove each: real installs, test-build each step', () => {
  let dir: string;
  let reference: string;

  beforeAll(async () => {
    dir = await create('stepwise', []);
    // The same name in another folder (package.json, README and the manifest carry the name),
    // made now, from the same templates, for the comparison at the end.
    reference = await create('stepwise', [], tempDir('cse-grow-ref-'));
    const app = join(dir, 'src/app.ts');
    const source = readFileSync(app, 'utf8');
    expect(source).toContain(ANCHOR);
    writeFileSync(app, source.replace(ANCHOR, APP_EDIT));
    writeFileSync(
      join(dir, 'README.md'),
      `${readFileSync(join(dir, 'README.md'), 'utf8')}${README_EDIT}`,
    );
  });

  for (const [index, id] of FEATURES.entries()) {
    it(`add ${id}: installed, built, linted, tested and booted; the user's edits kept`, async () => {
      const result = await cli(['add', id, '--cwd', dir]);
      expect(result.code, result.err).toBe(0);
      expect(result.doc?.features).toEqual(expect.arrayContaining(FEATURES.slice(0, index + 1)));
      expect(result.doc?.added).toContain(id);
      expect(result.doc?.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
        'install:passed',
        'build:passed',
        'typecheck:passed',
        'lint:passed',
        'test:passed',
        'boot:passed',
      ]);
      expect(readFileSync(join(dir, 'src/app.ts'), 'utf8')).toContain(APP_EDIT);
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain(README_EDIT.trim());
    });
  }

  it("the grown app serves with the user's middleware", async () => {
    const app = await startApp(dir);
    const res = await fetch(`${app.url}/api/hello`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-my-edit')).toBe('kept');
    expect(await app.stop('SIGTERM')).toBe(0);
  });

  for (const id of FEATURES) {
    it(`remove ${id}: its files and dependencies go; installed, built, linted, tested, booted`, async () => {
      const before = JSON.parse(readFileSync(join(dir, '.scalable-express.json'), 'utf8')) as {
        files: Record<string, string>;
      };
      const result = await cli(['remove', id, '--cwd', dir]);
      expect(result.code, result.err).toBe(0);
      expect(result.doc?.removed).toEqual([id]);
      expect(result.doc?.features).not.toContain(id);
      expect(result.doc?.steps.every((s) => s.status === 'passed')).toBe(true);
      expect(result.doc?.steps.map((s) => s.name)).toEqual([
        'install',
        'build',
        'typecheck',
        'lint',
        'test',
        'boot',
      ]);
      expect(existsSync(join(dir, `src/features/${id}.ts`))).toBe(false);
      for (const file of result.doc?.files ?? []) {
        if (file.action === 'delete') expect(before.files[file.path]).toBeDefined();
      }
      expect(readFileSync(join(dir, 'src/app.ts'), 'utf8')).toContain(APP_EDIT);
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain(README_EDIT.trim());
    });
  }

  it('after removing them all: the files of a fresh minimal project (plus the user edits)', async () => {
    expectSameProject(dir, reference, ['src/app.ts', 'README.md']);
    expect(readFileSync(join(dir, 'src/app.ts'), 'utf8')).toBe(
      readFileSync(join(reference, 'src/app.ts'), 'utf8').replace(ANCHOR, APP_EDIT),
    );
    expect(paragraphs(readFileSync(join(dir, 'README.md'), 'utf8'))).toEqual(
      paragraphs(`${readFileSync(join(reference, 'README.md'), 'utf8')}${README_EDIT}`),
    );
  });
});

describe('files only (--no-install)', () => {
  it('adding several at once gives the same files as create with them', async () => {
    const grown = await create('several', []);
    const result = await cli(['add', ...FEATURES, '--cwd', grown, '--no-install']);
    expect(result.code, result.err).toBe(0);
    expect(result.doc?.added?.slice().sort()).toEqual([...FEATURES].sort());
    const reference = await create('several', FEATURES, tempDir('cse-grow-ref-'));
    // The example routes are the user's (createOnly): `create` writes the chosen features'
    // examples (redis's /api/slow), `add` never touches them.
    expectSameProject(grown, reference, ['src/routes/examples.ts', 'test/examples.test.ts']);
  });

  it('adding twice: the second run changes no file (git status is empty)', async () => {
    const dir = await create('twice', []);
    await git(dir, 'init', '-q');
    const first = await cli(['add', FEATURES[0] ?? '', '--cwd', dir, '--no-install']);
    expect(first.code, first.err).toBe(0);
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-qm', 'first add');
    const second = await cli(['add', FEATURES[0] ?? '', '--cwd', dir, '--no-install']);
    expect(second.code, second.err).toBe(0);
    expect(second.doc?.added).toEqual([]);
    expect(second.doc?.files).toEqual([]);
    expect(await git(dir, 'status', '--porcelain')).toBe('');
    // The same for several at once, some of them already there.
    const more = await cli(['add', ...FEATURES, '--cwd', dir, '--no-install']);
    expect(more.code, more.err).toBe(0);
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-qm', 'more');
    const again = await cli(['add', ...FEATURES, '--cwd', dir, '--no-install']);
    expect(again.doc?.files).toEqual([]);
    expect(await git(dir, 'status', '--porcelain')).toBe('');
  });

  it('an edited app registry the feature must change: exit 1, untouched; --force keeps .orig', async () => {
    const [first = '', second = ''] = FEATURES;
    const dir = await create('registry-edit', [first]);
    const registry = join(dir, 'src/features/index.ts');
    const edited = `${readFileSync(registry, 'utf8')}// my own line\n`;
    writeFileSync(registry, edited);
    const refused = await cli(['add', second, '--cwd', dir, '--no-install']);
    expect(refused.code).toBe(1);
    expect(refused.doc?.conflicts).toEqual(['src/features/index.ts']);
    expect(refused.err).toContain('src/features/index.ts');
    expect(refused.err).toContain('-// my own line');
    expect(readFileSync(registry, 'utf8')).toBe(edited);
    expect(JSON.parse(readFileSync(join(dir, '.scalable-express.json'), 'utf8'))).toMatchObject({
      features: [first],
    });
    const forced = await cli(['add', second, '--cwd', dir, '--no-install', '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(readFileSync(`${registry}.orig`, 'utf8')).toBe(edited);
    expect(readFileSync(registry, 'utf8')).not.toContain('my own line');
  });

  it("an edited feature file another feature's presence changes: a conflict too", async () => {
    // Find, among FEATURES, a feature whose own file changes when another one is added.
    const pairs: { has: string; add: string; path: string }[] = [];
    for (const has of FEATURES) {
      if (pairs.length) break;
      const dir = await create(`pair-${has}`, [has]);
      for (const add of FEATURES.filter((f) => f !== has)) {
        if (pairs.length) break;
        const dry = await cli(['add', add, '--cwd', dir, '--dry-run']);
        expect(dry.code, dry.err).toBe(0);
        for (const file of dry.doc?.files ?? []) {
          if (file.action === 'update' && !SHARED.includes(file.path))
            pairs.push({ has, add, path: file.path });
        }
      }
    }
    expect(pairs.length).toBeGreaterThan(0);
    const pair = pairs[0] ?? { has: '', add: '', path: '' };
    const dir = join(parent, `pair-${pair.has}`);
    const file = join(dir, pair.path);
    const edited = `${readFileSync(file, 'utf8')}// edited by me\n`;
    writeFileSync(file, edited);
    const refused = await cli(['add', pair.add, '--cwd', dir, '--no-install']);
    expect(refused.code).toBe(1);
    expect(refused.doc?.conflicts).toContain(pair.path);
    expect(refused.err).toContain(pair.path);
    expect(readFileSync(file, 'utf8')).toBe(edited);
    const forced = await cli(['add', pair.add, '--cwd', dir, '--no-install', '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(readFileSync(`${file}.orig`, 'utf8')).toBe(edited);
    expect(readFileSync(file, 'utf8')).not.toContain('// edited by me');
  });
});
