/**
 * A write that fails part-way (disk full) while creating a project: everything this run made
 * goes, the partly written file and the new project folder included. The failure is injected in
 * node:fs: the chosen file gets its first bytes written, then ENOSPC, once (the
 * rollback frees space, as removing the run's files would on a real disk).
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
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const disk = vi.hoisted(() => ({ fullAt: '' }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const full = () => {
    disk.fullAt = '';
    return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  const hit = (file: unknown) => disk.fullAt !== '' && String(file).endsWith(disk.fullAt);
  const partly = (data: unknown) => Buffer.from(String(data)).subarray(0, 10);
  /** Descriptors open on the chosen file (commitChanges writes a new file through one). */
  const doomed = new Set<number>();
  const openSync: typeof fs.openSync = (file, flags, mode) => {
    const fd = fs.openSync(file, flags, mode);
    if (hit(file)) doomed.add(fd);
    return fd;
  };
  const writeFileSync: typeof fs.writeFileSync = (file, data, options) => {
    if (typeof file === 'number' ? !doomed.delete(file) : !hit(file))
      return fs.writeFileSync(file, data, options);
    fs.writeFileSync(file, partly(data));
    throw full();
  };
  return {
    ...fs,
    default: { ...fs, openSync, writeFileSync },
    openSync,
    writeFileSync,
  };
});

const { commitChanges } = await import('../../src/tree/commit.js');
const { planChanges } = await import('../../src/tree/plan.js');

const parent = mkdtempSync(join(tmpdir(), 'cse-disk-full-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));
afterEach(() => {
  disk.fullAt = '';
});

const newProject = () =>
  planChanges({
    target: { name: 'svc', port: 3000, packageManager: 'npm', features: [] },
    readCurrent: async () => undefined,
    force: false,
  });

describe('disk full while create writes', () => {
  it('removes every file and folder it made, the partly written file and the new project folder', async () => {
    const under = join(parent, 'a');
    mkdirSync(under);
    const plan = await newProject();
    disk.fullAt = join('src', 'app.ts');
    await expect(commitChanges(join(under, 'svc'), plan.changes)).rejects.toThrow(/ENOSPC/);
    expect(readdirSync(under)).toEqual([]);
  });

  it('in a folder that existed: only what the run made goes; the user files stay as they were', async () => {
    const root = join(parent, 'b');
    mkdirSync(root);
    const mine = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]); // Latin-1, not UTF-8
    writeFileSync(join(root, 'notes.txt'), mine);
    const plan = await newProject();
    disk.fullAt = join('src', 'app.ts');
    await expect(commitChanges(root, plan.changes)).rejects.toThrow(/ENOSPC/);
    expect(readdirSync(root)).toEqual(['notes.txt']);
    expect(readFileSync(join(root, 'notes.txt'))).toEqual(mine);
    expect(existsSync(join(root, 'src'))).toBe(false);
  });

  it('an updated file that is partly rewritten gets its old bytes back', async () => {
    const root = join(parent, 'c');
    mkdirSync(root);
    const old = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]);
    writeFileSync(join(root, 'data.bin'), old);
    disk.fullAt = 'data.bin';
    const changes = [
      { path: 'fresh.txt', action: 'create' as const, content: 'new\n' },
      {
        path: 'data.bin',
        action: 'update' as const,
        content: 'a longer new content\n',
        previous: old,
      },
    ];
    await expect(commitChanges(root, changes)).rejects.toThrow(/ENOSPC/);
    expect(readFileSync(join(root, 'data.bin'))).toEqual(old);
    expect(readdirSync(root)).toEqual(['data.bin']);
  });
});
