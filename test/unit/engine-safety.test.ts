/**
 * The file engine's promise, "nothing lost, nothing outside the project", against hostile and
 * unusual projects: crafted journals and manifests, symbolic links, older backups, bytes that are
 * not UTF-8, and a second run at the same time. Every case has files OUTSIDE the project that
 * must stay byte-identical, and checks that the project itself is untouched when refused.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('../../src/features/index.js', () => import('./fixtures/grow-features.js'));
vi.mock('../../src/paths.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/paths.js')>();
  const { fixtureTemplatesDir } = await import('./fixtures/grow-features.js');
  return { ...original, templatesDir: fixtureTemplatesDir(original.templatesDir) };
});

const { addFeatures } = await import('../../src/actions/add.js');
const { removeFeatures } = await import('../../src/actions/remove.js');
const { listFeatures } = await import('../../src/actions/list.js');
const { ExitCode, exitCodeOf } = await import('../../src/errors.js');
const { MANIFEST_FILE, readManifest } = await import('../../src/manifest.js');
const { commitChanges } = await import('../../src/tree/commit.js');
const { JOURNAL_FILE, recoverJournal, writeJournal } = await import('../../src/tree/journal.js');
const { planChanges } = await import('../../src/tree/plan.js');
const { createOutput } = await import('../../src/ui/output.js');

const quiet = createOutput({ json: true, quiet: true });
const parent = mkdtempSync(join(tmpdir(), 'cse-engine-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** Latin-1 "café" and a lone 0xff: not UTF-8, so any decode/re-encode would change them. */
const LATIN1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0x0a]);

let dir: string;
let outside: string;
let counter = 0;

beforeEach(async () => {
  const case_ = join(parent, `case${++counter}`);
  outside = join(case_, 'outside');
  mkdirSync(join(outside, 'emptydir'), { recursive: true });
  writeFileSync(join(outside, 'victim.txt'), Buffer.concat([Buffer.from('precious '), LATIN1]));
  writeFileSync(join(outside, 'secret.txt'), 'secret\n');
  dir = join(case_, 'project');
  const plan = await planChanges({
    target: { name: 'svc', port: 3000, packageManager: 'npm', features: [] },
    readCurrent: async () => undefined,
    force: false,
  });
  await commitChanges(dir, plan.changes);
});

/** Every file and folder under root, with the bytes of each file (links listed, not followed). */
function snapshot(root: string): Map<string, Buffer | 'dir' | 'link'> {
  const entries = readdirSync(root, { recursive: true, withFileTypes: true });
  return new Map(
    entries
      .map((e): [string, Buffer | 'dir' | 'link'] => {
        const path = join(e.parentPath, e.name);
        const kind = e.isSymbolicLink() ? 'link' : e.isDirectory() ? 'dir' : readFileSync(path);
        return [relative(root, path), kind];
      })
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

const options = (features: string[], force = false) => ({
  features,
  directory: dir,
  dryRun: false,
  force,
  install: false,
  verify: false,
  json: true,
  verbose: false,
});
const add = (features: string[], force = false) => addFeatures(options(features, force), quiet);
const remove = (features: string[], force = false) =>
  removeFeatures(options(features, force), quiet);
const list = () => listFeatures({ directory: dir, explicit: true, json: true }, quiet);
const failure = (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => {
      throw new Error('expected the run to fail');
    },
    (error: unknown) => error as Error,
  );

/** A journal in the format this CLI writes, plus `old` as the previous format had it. */
function plantJournal(entries: { path: string; old: string | null }[], createdDirs: string[]) {
  const journal = {
    generator: 'create-scalable-express',
    format: 2,
    command: 'add',
    startedAt: new Date().toISOString(),
    entries: entries.map((e) => ({
      path: e.path,
      old: e.old,
      oldBase64: e.old === null ? null : Buffer.from(e.old).toString('base64'),
    })),
    createdDirs,
  };
  writeFileSync(join(dir, JOURNAL_FILE), JSON.stringify(journal));
}

describe('paths read from files stay inside the project', () => {
  const hostile = (): { path: string; old: string | null }[] => [
    { path: '../outside/victim.txt', old: 'overwritten by a journal\n' },
    { path: '../outside/secret.txt', old: null },
    { path: join(outside, 'created.txt'), old: 'created outside\n' },
  ];

  it('a journal naming ../ or absolute paths: list, add and remove refuse (exit 2), touching nothing', async () => {
    plantJournal(hostile(), ['../outside/emptydir']);
    const before = { inside: snapshot(dir), outside: snapshot(outside) };
    for (const run of [list, () => add(['alpha']), () => remove(['alpha'])]) {
      const error = await failure(run());
      expect(exitCodeOf(error), error.message).toBe(ExitCode.usage);
      expect(error.message).toContain(JOURNAL_FILE);
      expect(snapshot(outside)).toEqual(before.outside);
      expect(snapshot(dir)).toEqual(before.inside);
    }
  });

  it('a journal path through a linked folder that leads outside is refused, touching nothing', async () => {
    symlinkSync(outside, join(dir, 'docs'));
    plantJournal(
      [
        { path: 'docs/victim.txt', old: 'overwritten through a link\n' },
        { path: 'docs/secret.txt', old: null },
        // Replayed first (the journal is undone from the end): must not be touched either.
        { path: 'README.md', old: 'replaced by a hostile journal\n' },
      ],
      ['docs/emptydir'],
    );
    const before = { inside: snapshot(dir), outside: snapshot(outside) };
    const error = await failure(list());
    expect(exitCodeOf(error)).toBe(ExitCode.usage);
    expect(error.message).toMatch(/docs is a symbolic link/);
    expect(existsSync(join(outside, 'emptydir'))).toBe(true);
    expect(snapshot(outside)).toEqual(before.outside);
    expect(snapshot(dir)).toEqual(before.inside);
  });

  it('a manifest of the wrong shape is one line naming the file (exit 2), not a TypeError', async () => {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as object;
    for (const broken of [
      { ...manifest, files: null },
      { ...manifest, files: { '../outside/victim.txt': 'sha256-x' } },
      { ...manifest, project: null },
    ]) {
      writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(broken));
      const before = snapshot(dir);
      const error = await failure(add(['alpha']));
      expect(error.name, error.message).not.toBe('TypeError');
      expect(exitCodeOf(error)).toBe(ExitCode.usage);
      expect(error.message).toContain(join(dir, MANIFEST_FILE));
      expect(error.message).not.toContain('\n');
      expect(snapshot(dir)).toEqual(before);
    }
    await expect(readManifest(dir)).rejects.toThrow(/not a valid create-scalable-express manifest/);
  });
});

describe('never through a symbolic link (not even with --force)', () => {
  it('a linked README: add refuses with exit 2 naming the link; the target is untouched', async () => {
    rmSync(join(dir, 'README.md'));
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'README.md'));
    const before = { inside: snapshot(dir), outside: snapshot(outside) };
    for (const force of [false, true]) {
      const error = await failure(add(['alpha'], force));
      expect(exitCodeOf(error)).toBe(ExitCode.usage);
      expect(error.message).toMatch(/^README\.md is a symbolic link/);
      expect(snapshot(outside)).toEqual(before.outside);
      expect(snapshot(dir)).toEqual(before.inside);
    }
  });

  it('a linked folder a new file goes into: refused, nothing written outside', async () => {
    rmSync(join(dir, 'src/features'), { recursive: true });
    symlinkSync(outside, join(dir, 'src/features'));
    const before = { inside: snapshot(dir), outside: snapshot(outside) };
    const error = await failure(add(['alpha'], true));
    expect(exitCodeOf(error)).toBe(ExitCode.usage);
    expect(error.message).toMatch(/^src\/features is a symbolic link/);
    expect(snapshot(outside)).toEqual(before.outside);
    expect(snapshot(dir)).toEqual(before.inside);
  });

  it('the commit step itself (create --force uses it) refuses a link before writing anything', async () => {
    symlinkSync(join(outside, 'victim.txt'), join(dir, 'linked.txt'));
    const before = { inside: snapshot(dir), outside: snapshot(outside) };
    const changes = [
      { path: 'first.txt', action: 'create' as const, content: 'would be written first\n' },
      {
        path: 'linked.txt',
        action: 'update' as const,
        content: 'generated\n',
        previous: readFileSync(join(outside, 'victim.txt')),
      },
    ];
    const error = await failure(commitChanges(dir, changes));
    expect(exitCodeOf(error)).toBe(ExitCode.usage);
    expect(error.message).toMatch(/^linked\.txt is a symbolic link/);
    expect(snapshot(outside)).toEqual(before.outside);
    expect(snapshot(dir)).toEqual(before.inside);
  });
});

describe('backups', () => {
  it('an older .orig is never overwritten: .orig, then .orig.1, .orig.2', async () => {
    await add(['alpha']);
    writeFileSync(join(dir, 'alpha.txt'), 'first edit\n');
    writeFileSync(join(dir, 'alpha.txt.orig'), 'an older backup\n');
    await add(['beta'], true);
    expect(readFileSync(join(dir, 'alpha.txt.orig'), 'utf8')).toBe('an older backup\n');
    expect(readFileSync(join(dir, 'alpha.txt.orig.1'), 'utf8')).toBe('first edit\n');
    writeFileSync(join(dir, 'alpha.txt'), 'second edit\n');
    await remove(['beta'], true);
    expect(readFileSync(join(dir, 'alpha.txt.orig'), 'utf8')).toBe('an older backup\n');
    expect(readFileSync(join(dir, 'alpha.txt.orig.1'), 'utf8')).toBe('first edit\n');
    expect(readFileSync(join(dir, 'alpha.txt.orig.2'), 'utf8')).toBe('second edit\n');
  });
});

describe('bytes, not text', () => {
  it('a shared file that is not UTF-8 is a conflict (exit 1), untouched; --force keeps its exact bytes', async () => {
    const readme = Buffer.concat([readFileSync(join(dir, 'README.md')), LATIN1]);
    writeFileSync(join(dir, 'README.md'), readme);
    const before = snapshot(dir);
    const error = await failure(add(['alpha']));
    expect(exitCodeOf(error)).toBe(ExitCode.failed);
    expect(error.message).toContain('README.md');
    expect(snapshot(dir)).toEqual(before);
    await add(['alpha'], true);
    expect(readFileSync(join(dir, 'README.md.orig'))).toEqual(readme);
  });

  it('the .orig of an edited file that is not UTF-8 holds its exact bytes', async () => {
    await add(['alpha']);
    writeFileSync(join(dir, 'alpha.txt'), LATIN1);
    await add(['beta'], true);
    expect(readFileSync(join(dir, 'alpha.txt.orig'))).toEqual(LATIN1);
  });

  it('journal recovery after a hard kill restores bytes exactly', async () => {
    writeFileSync(join(dir, 'data.bin'), LATIN1);
    const changes = [
      { path: 'data.bin', action: 'update' as const, content: 'new\n', previous: LATIN1 },
      { path: 'other.txt', action: 'create' as const, content: 'x\n' },
    ];
    await writeJournal(dir, 'add', changes);
    await commitChanges(dir, changes); // the run "dies" before deleting its journal
    expect(readFileSync(join(dir, 'data.bin'), 'utf8')).toBe('new\n');
    await recoverJournal(dir);
    expect(readFileSync(join(dir, 'data.bin'))).toEqual(LATIN1);
    expect(existsSync(join(dir, 'other.txt'))).toBe(false);
  });
});

describe('one run at a time', () => {
  /** A process that is alive until killed, and one that has already exited. */
  const alive = () => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  const gone = async (): Promise<number> => {
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => child.on('exit', resolve));
    return child.pid!;
  };

  it('a second run refuses at once (exit 1) naming the running pid; nothing changes', async () => {
    const holder = alive();
    try {
      writeFileSync(join(dir, '.scalable-express.lock'), `${holder.pid}\n`);
      // The holder's journal: list must not "recover" a run that is still writing.
      plantJournal([{ path: 'README.md', old: 'the holder has not written README.md yet\n' }], []);
      const before = snapshot(dir);
      for (const run of [() => add(['alpha']), () => remove(['alpha']), list]) {
        const error = await failure(run());
        expect(exitCodeOf(error)).toBe(ExitCode.failed);
        expect(error.message).toContain(`pid ${holder.pid}`);
        expect(snapshot(dir)).toEqual(before);
      }
    } finally {
      holder.kill();
    }
  });

  it('list without a journal only reads: it lists while another run holds the lock', async () => {
    const holder = alive();
    try {
      writeFileSync(join(dir, '.scalable-express.lock'), `${holder.pid}\n`);
      expect((await list()).features.length).toBeGreaterThan(0);
    } finally {
      holder.kill();
    }
  });

  it('a lock whose process is gone is taken over, and released at the end', async () => {
    writeFileSync(join(dir, '.scalable-express.lock'), `${await gone()}\n`);
    const result = await add(['alpha']);
    expect(result.added).toEqual(['alpha']);
    expect(existsSync(join(dir, '.scalable-express.lock'))).toBe(false);
  });
});
