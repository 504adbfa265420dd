/**
 * The file engine's promise through the built CLI: two runs at once, a crafted journal, a linked
 * README under `create --force`, a hard kill with bytes that are not UTF-8, and a full disk. Files
 * OUTSIDE the project must stay byte-identical.
 */
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectableFeatures } from '../../src/features/index.js';
import { BIN, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir('cse-engine-int-');
const LATIN1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0x0a]);
/** A feature with an app module and no requirement: adding it changes several files. */
const withModule = selectableFeatures.find((f) => f.appModule && !f.requires?.length)!;
let counter = 0;

async function minimal(): Promise<string> {
  const name = `app${++counter}`;
  const created = await runCli([name, '--preset', 'minimal', '--yes', '--no-install', '--no-git'], {
    cwd: parent,
  });
  expect(created.exitCode, created.stderr).toBe(0);
  return join(parent, name);
}

/**
 * Every file under root with its bytes. A file that is gone by the time it is read (a run's
 * short-lived draft, such as the lock's, seen while that run works) is left out.
 */
function snapshot(root: string): Map<string, Buffer> {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
  const read = (f: string): [string, Buffer][] => {
    try {
      return [[f, readFileSync(join(root, f))]];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  };
  return new Map(files.sort().flatMap(read));
}

function outsideFolder(): string {
  const outside = join(parent, `outside${++counter}`);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), Buffer.concat([Buffer.from('secret '), LATIN1]));
  return outside;
}

/**
 * Starts a slowed-down `add` and resolves once it is writing. Wrapped in an object: the child is
 * itself a promise, which an async function would otherwise wait for.
 */
async function slowAdd(dir: string, extra: string[] = []) {
  const before = snapshot(dir);
  const child = execa(
    process.execPath,
    [BIN, 'add', withModule.id, '--no-install', '--cwd', dir, ...extra],
    {
      env: { ...process.env, CSE_TEST_WRITE_DELAY_MS: '400', NO_COLOR: '1' },
      reject: false,
      stdin: 'ignore',
    },
  );
  // Event-based: poll the disk (not a wall-clock guess) until the run is writing; 60 s is only a
  // ceiling for a very loaded machine.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const now = snapshot(dir);
    const changed = [...now].filter(([path, bytes]) => !before.get(path)?.equals(bytes));
    if (changed.length >= 3) break; // the journal, the lock, and a project file
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child };
}

describe('through the built CLI', () => {
  it('two add runs at once: the second refuses at once (exit 1) naming the first pid', async () => {
    const dir = await minimal();
    const { child: first } = await slowAdd(dir);
    const second = await runCli(['add', withModule.id, '--no-install', '--cwd', dir]);
    expect(second.exitCode, second.stderr).toBe(1);
    expect(second.stderr).toContain(`pid ${first.pid}`);
    const done = await first;
    expect(done.exitCode, String(done.stderr)).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, '.scalable-express.json'), 'utf8')) as {
      features: string[];
    };
    expect(manifest.features).toContain(withModule.id);
    expect(existsSync(join(dir, '.scalable-express.lock'))).toBe(false);
    expect(existsSync(join(dir, '.scalable-express.journal.json'))).toBe(false);
  });

  it('a hard kill mid-write is rolled back byte-exactly, bytes that are not UTF-8 included', async () => {
    const dir = await minimal();
    const readme = Buffer.concat([readFileSync(join(dir, 'README.md')), LATIN1]);
    writeFileSync(join(dir, 'README.md'), readme);
    const before = snapshot(dir);
    const { child } = await slowAdd(dir, ['--force']);
    child.kill('SIGKILL');
    await child;
    const listed = await runCli(['list', '--cwd', dir]);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/A previous "add" was interrupted/);
    expect(readFileSync(join(dir, 'README.md'))).toEqual(readme);
    const after = snapshot(dir);
    after.delete('.scalable-express.lock'); // the killed run's lock: taken over by the next run
    expect(after).toEqual(before);
  });

  it('a crafted journal that names files outside: list exits 2 and nothing changes', async () => {
    const dir = await minimal();
    const outside = outsideFolder();
    const target = relative(dir, join(outside, 'secret.txt'));
    const entry = {
      path: target,
      old: 'overwritten\n',
      oldBase64: Buffer.from('overwritten\n').toString('base64'),
    };
    writeFileSync(
      join(dir, '.scalable-express.journal.json'),
      JSON.stringify({
        generator: 'create-scalable-express',
        format: 2,
        command: 'add',
        startedAt: '',
        entries: [entry],
        createdDirs: [],
      }),
    );
    const before = { inside: snapshot(dir), outside: snapshot(outside) };
    const listed = await runCli(['list', '--cwd', dir]);
    expect(listed.exitCode).toBe(2);
    expect(listed.stderr).toContain('.scalable-express.journal.json');
    expect(snapshot(outside)).toEqual(before.outside);
    expect(snapshot(dir)).toEqual(before.inside);
  });

  it('create --force over a linked README: exit 2 naming the link, the target untouched', async () => {
    const outside = outsideFolder();
    const dir = join(parent, `linked${++counter}`);
    mkdirSync(dir);
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'README.md'));
    const before = snapshot(outside);
    const result = await runCli(
      ['.', '--preset', 'minimal', '--yes', '--no-install', '--no-git', '--force'],
      {
        cwd: dir,
      },
    );
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('README.md is a symbolic link');
    expect(snapshot(outside)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['README.md']);
  });
});

/** A 64 KB tmpfs: a project does not fit. Needs root (mount); elsewhere the unit test covers it. */
function smallDisk(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const mountPoint = join(parent, 'small-disk');
  mkdirSync(mountPoint);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], {
      stdio: 'ignore',
    });
  } catch {
    return undefined;
  }
  afterAll(() => execFileSync('umount', [mountPoint]));
  return mountPoint;
}
const disk = smallDisk();

describe.runIf(disk)('disk full during create (tmpfs, as root)', () => {
  it('fails (exit 1) and leaves nothing behind: no file, no folder', async () => {
    const result = await runCli(
      ['app', '--preset', 'minimal', '--yes', '--no-install', '--no-git'],
      {
        cwd: disk,
      },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/ENOSPC/);
    expect(readdirSync(disk!)).toEqual([]);
  });
});
