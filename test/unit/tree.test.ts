import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashContent, MANIFEST_FILE, type Manifest } from '../../src/manifest.js';
import { renderProject } from '../../src/render/render.js';
import { commitChanges } from '../../src/tree/commit.js';
import { JOURNAL_FILE } from '../../src/tree/journal.js';
import { LOCK_FILE } from '../../src/tree/lock.js';
import { isPlainRelativePath } from '../../src/tree/safe-path.js';
import { planChanges, type FileChange } from '../../src/tree/plan.js';

const target = { name: 'svc', port: 3000, packageManager: 'npm' as const, features: [] };
const nothingOnDisk = async () => undefined;

describe('rendering', () => {
  it('renders the base app in memory, with the project name and port filled in', async () => {
    const tree = await renderProject(target);
    expect([...tree.keys()]).toEqual(
      expect.arrayContaining([
        'package.json',
        '.gitignore',
        'src/app.ts',
        'src/main.ts',
        'src/features/index.ts',
        'README.md',
        '.env.example',
      ]),
    );
    expect(JSON.parse(tree.get('package.json')!).name).toBe('svc');
    expect(tree.get('src/config.ts')).toContain("readInt(env, 'PORT', 3000");
    expect([...tree.keys()].some((p) => p.endsWith('.ejs') || p.includes('_readme'))).toBe(false);
  });

  it('the generated .gitignore keeps the journal and the lock out of git', async () => {
    const lines = (await renderProject(target)).get('.gitignore')!.split('\n');
    expect(lines).toContain(`${JOURNAL_FILE}*`);
    expect(lines).toContain(LOCK_FILE);
  });
});

describe('planning a new project', () => {
  it('creates every file plus a manifest with a hash per file', async () => {
    const plan = await planChanges({ target, readCurrent: nothingOnDisk, force: false });
    expect(plan.conflicts).toEqual([]);
    expect(plan.changes.every((c) => c.action === 'create')).toBe(true);
    const manifestChange = plan.changes.find((c) => c.path === MANIFEST_FILE)!;
    const manifest = JSON.parse(String(manifestChange.content)) as Manifest;
    const app = plan.changes.find((c) => c.path === 'src/app.ts')!;
    expect(manifest.files['src/app.ts']).toBe(hashContent(app.content!));
    expect(manifest.features).toEqual([]);
  });

  it('with --force over existing files, saves the user’s version as .orig', async () => {
    const plan = await planChanges({
      target,
      readCurrent: async (path) => (path === 'README.md' ? Buffer.from('my readme') : undefined),
      force: true,
    });
    expect(plan.changes).toContainEqual({
      path: 'README.md.orig',
      action: 'create',
      content: Buffer.from('my readme'),
    });
    expect(plan.changes.find((c) => c.path === 'README.md')?.action).toBe('update');
  });
});

describe('committing', () => {
  it('writes every file', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'cse-tree-')), 'app');
    const plan = await planChanges({ target, readCurrent: nothingOnDisk, force: false });
    await commitChanges(root, plan.changes);
    expect(readFileSync(join(root, 'src/app.ts'), 'utf8')).toBe(
      plan.changes.find((c) => c.path === 'src/app.ts')!.content,
    );
  });

  it('on failure removes what it created and restores what it changed, keeping other files', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'cse-tree-'));
    const root = join(parent, 'app');
    mkdirSync(root);
    writeFileSync(join(root, 'mine.txt'), 'keep me');
    writeFileSync(join(root, 'README.md'), 'original');
    const changes: FileChange[] = [
      { path: 'src/deep/new.ts', action: 'create', content: 'x' },
      {
        path: 'README.md',
        action: 'update',
        content: 'changed',
        previous: Buffer.from('original'),
      },
      { path: 'mine.txt/impossible', action: 'create', content: 'fails: mine.txt is a file' },
    ];
    await expect(commitChanges(root, changes)).rejects.toThrow();
    expect(readdirSync(root).sort()).toEqual(['README.md', 'mine.txt']);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toBe('original');
    expect(existsSync(join(root, 'src'))).toBe(false);
  });

  it('removes a project folder it created when interrupted', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'cse-tree-')), 'new-app');
    let calls = 0;
    const plan = await planChanges({ target, readCurrent: nothingOnDisk, force: false });
    const checkpoint = () => {
      if (++calls === 5) throw new Error('interrupted');
    };
    await expect(commitChanges(root, plan.changes, { checkpoint })).rejects.toThrow('interrupted');
    expect(existsSync(root)).toBe(false);
  });

  it('sees an interrupt that arrives through the event loop while it writes (as Ctrl-C does)', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'cse-tree-')), 'new-app');
    let interrupted = false;
    const plan = await planChanges({ target, readCurrent: nothingOnDisk, force: false });
    const checkpoint = () => {
      if (interrupted) throw new Error('interrupted');
    };
    const writing = commitChanges(root, plan.changes, { checkpoint });
    // The writes are synchronous calls: this runs only if the commit gives the loop a turn.
    setImmediate(() => (interrupted = true));
    await expect(writing).rejects.toThrow('interrupted');
    expect(existsSync(root)).toBe(false);
  });
});

describe('paths', () => {
  it('only plain relative paths inside the project pass', () => {
    for (const ok of ['README.md', 'src/features/redis.ts', '.github/workflows/ci.yml', 'a..b'])
      expect(isPlainRelativePath(ok), ok).toBe(true);
    for (const bad of [
      '',
      '.',
      '..',
      '../x',
      'a/../../x',
      'a/./b',
      'a//b',
      'a/',
      '/etc/passwd',
      'a\\b',
      'C:\\x',
      'a\0b',
      null,
      5,
    ])
      expect(isPlainRelativePath(bad), String(bad)).toBe(false);
  });
});
