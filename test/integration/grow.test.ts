/**
 * `add`, `remove` and `list` through the built CLI, files only (--no-install): exit codes, the
 * --json document, --dry-run, conflicts, idempotence checked with git, and recovery after a hard
 * kill (SIGKILL) and Ctrl-C in the middle of writing.
 */
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectableFeatures } from '../../src/features/index.js';
import { BIN, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

interface GrowDoc {
  ok: boolean;
  directory: string;
  features: string[];
  added?: string[];
  removed?: string[];
  files: { path: string; action: string; bytes: number }[];
  conflicts: string[];
  steps: unknown[];
  diff?: string;
  error?: { message: string; exitCode: number };
}

const parent = tempDir('cse-grow-int-');
let counter = 0;

/** A fresh minimal project (files only) committed to git, so `git status` shows any change. */
async function minimal(): Promise<string> {
  const name = `app${++counter}`;
  const created = await runCli([name, '--preset', 'minimal', '--yes', '--no-install'], {
    cwd: parent,
  });
  expect(created.exitCode, created.stderr).toBe(0);
  const dir = join(parent, name);
  await commitAll(dir);
  return dir;
}

async function commitAll(dir: string): Promise<void> {
  await execa('git', ['add', '-A'], { cwd: dir });
  await execa(
    'git',
    ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'step', '--allow-empty'],
    { cwd: dir },
  );
}

async function gitStatus(dir: string): Promise<string> {
  return (await execa('git', ['status', '--porcelain'], { cwd: dir })).stdout;
}

function snapshot(root: string): Map<string, string> {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !relative(root, e.parentPath).startsWith('.git'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
  return new Map(files.sort().map((f) => [f, readFileSync(join(root, f), 'utf8')]));
}

const grow = (args: string[], cwd?: string, env?: Record<string, string>) =>
  runCli([...args, '--no-install'], { cwd: cwd ?? parent, env });

/** A feature with an app module and no requirement: adding it rewrites src/features/index.ts. */
const withModule = selectableFeatures.find((f) => f.appModule && !f.requires?.length);
/** Two features that conflict with each other. */
const clashing = selectableFeatures.find((f) => f.conflicts?.length);

describe('add / remove / list (files only)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await minimal();
  });

  it('outside a project: exit 2, a clear message, nothing written', async () => {
    const empty = tempDir('cse-grow-empty-');
    for (const command of ['add', 'remove']) {
      const result = await grow([command, 'redis', '--cwd', empty]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/No \.scalable-express\.json in .*not a project made by/);
    }
    const listed = await runCli(['list', '--cwd', empty]);
    expect(listed.exitCode).toBe(2);
    expect(readdirSync(empty)).toEqual([]);
    const here = await runCli(['add', 'redis', '--no-install'], { cwd: empty });
    expect(here.exitCode).toBe(2);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('unknown and conflicting features: exit 2, nothing written', async () => {
    const unknown = await grow(['add', 'redsi', '--cwd', dir]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('Did you mean "redis"?');
    expect(clashing).toBeDefined();
    const a = clashing?.id ?? '';
    const b = clashing?.conflicts?.[0] ?? '';
    const both = await grow(['add', a, b, '--cwd', dir]);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toMatch(/conflict/);
    expect(await gitStatus(dir)).toBe('');
  });

  it('--json: the result document; the manifest and files follow', async () => {
    expect(withModule).toBeDefined();
    const id = withModule?.id ?? '';
    const result = await grow(['add', id, '--cwd', dir, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as GrowDoc;
    expect(doc).toMatchObject({ ok: true, directory: dir, added: [id], conflicts: [], steps: [] });
    expect(doc.features).toContain(id);
    const paths = doc.files.map((f) => f.path);
    expect(paths).toContain('src/features/index.ts');
    expect(paths.at(-1)).toBe('.scalable-express.json');
    for (const file of doc.files) {
      expect(file.bytes).toBe(Buffer.byteLength(readFileSync(join(dir, file.path))));
    }
    expect(readFileSync(join(dir, 'src/features/index.ts'), 'utf8')).toContain(`./${id}.js'`);
    const manifest = JSON.parse(readFileSync(join(dir, '.scalable-express.json'), 'utf8')) as {
      features: string[];
    };
    expect(manifest.features).toEqual(doc.features);
    expect(existsSync(join(dir, '.scalable-express.journal.json'))).toBe(false);
    const listed = await runCli(['list', '--json'], { cwd: dir });
    const list = JSON.parse(listed.stdout) as { features: { id: string; installed: boolean }[] };
    expect(list.features.find((f) => f.id === id)?.installed).toBe(true);
    expect(list.features.filter((f) => f.installed)).toHaveLength(doc.features.length);
  });

  it('adding it again changes nothing and says so (git status is empty)', async () => {
    await commitAll(dir);
    const id = withModule?.id ?? '';
    const again = await grow(['add', id, '--cwd', dir]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`"${id}" is already installed`);
    expect(again.stdout).toContain('Nothing to do');
    expect(await gitStatus(dir)).toBe('');
  });

  it('--dry-run prints a unified diff and writes nothing', async () => {
    const id = withModule?.id ?? '';
    const removing = await grow(['remove', id, '--cwd', dir, '--dry-run']);
    expect(removing.exitCode, removing.stderr).toBe(0);
    expect(removing.stdout).toContain('--- a/src/features/index.ts');
    expect(removing.stdout).toMatch(new RegExp(`^-import .* from './${id}\\.js';$`, 'm'));
    expect(removing.stdout).toContain('+++ b/.scalable-express.json');
    expect(await gitStatus(dir)).toBe('');
  });

  it('an edited file that must change: exit 1 with its diff, untouched; --force keeps .orig', async () => {
    const id = withModule?.id ?? '';
    const registry = join(dir, 'src/features/index.ts');
    const edited = `${readFileSync(registry, 'utf8')}// my own line\n`;
    writeFileSync(registry, edited);
    await commitAll(dir);
    const conflict = await grow(['remove', id, '--cwd', dir, '--json']);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.stderr).toContain('src/features/index.ts');
    expect(conflict.stderr).toContain('-// my own line');
    const doc = JSON.parse(conflict.stdout) as GrowDoc;
    expect(doc.ok).toBe(false);
    expect(doc.conflicts).toEqual(['src/features/index.ts']);
    expect(await gitStatus(dir)).toBe('');

    const forced = await grow(['remove', id, '--cwd', dir, '--force']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(readFileSync(`${registry}.orig`, 'utf8')).toBe(edited);
    expect(readFileSync(registry, 'utf8')).not.toContain('my own line');
    expect(readFileSync(registry, 'utf8')).not.toContain(`./${id}.js'`);
    const none = await grow(['remove', id, '--cwd', dir]);
    expect(none.exitCode).toBe(0);
    expect(none.stdout).toContain(`"${id}" is not installed`);
  });
});

describe('interrupted writes', () => {
  it('a hard kill mid-write is rolled back by the next run, which says so', async () => {
    const dir = await minimal();
    const before = snapshot(dir);
    const id = withModule?.id ?? '';
    const child = execa(process.execPath, [BIN, 'add', id, '--no-install', '--cwd', dir], {
      env: { ...process.env, CSE_TEST_WRITE_DELAY_MS: '400', NO_COLOR: '1' },
      reject: false,
      stdin: 'ignore',
    });
    // Wait until the journal exists and at least one file has been written, then SIGKILL.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if ((await gitStatus(dir)).split('\n').filter(Boolean).length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    await child;
    expect(existsSync(join(dir, '.scalable-express.journal.json'))).toBe(true);
    expect(snapshot(dir)).not.toEqual(before);

    const listed = await runCli(['list', '--cwd', dir]);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/A previous "add" was interrupted: the project was rolled back/);
    expect(snapshot(dir)).toEqual(before);
    expect(await gitStatus(dir)).toBe('');
    // And the project is usable: the same add now succeeds.
    const again = await grow(['add', id, '--cwd', dir]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('interrupted');
  });

  it('Ctrl-C mid-write: exit 130, the project as it was, no journal left', async () => {
    const dir = await minimal();
    const id = withModule?.id ?? '';
    const child = execa(process.execPath, [BIN, 'add', id, '--no-install', '--cwd', dir], {
      env: { ...process.env, CSE_TEST_WRITE_DELAY_MS: '400', NO_COLOR: '1' },
      reject: false,
      stdin: 'ignore',
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if ((await gitStatus(dir)).split('\n').filter(Boolean).length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(await gitStatus(dir)).toBe('');
  });
});
