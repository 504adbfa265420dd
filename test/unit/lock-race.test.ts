/**
 * The project lock (src/tree/lock.ts) raced by real processes: several runs that all find the
 * same stale lock (its process is gone) at the same moment. Exactly one may hold it; the others
 * refuse with the lock's message and exit code 1. Each racer is src/tree/lock.ts bundled with
 * esbuild into a small script, so the processes run the sources under test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir('cse-lock-race-');
const racer = join(parent, 'racer.mjs');
const LOCK = '.scalable-express.lock';
const src = join(import.meta.dirname, '..', '..', 'src');

// A racer prints "ready", takes the lock when it reads "go" on stdin and prints "won" (then holds
// it until stdin ends, releases it and exits 0), or prints the refusal and exits with its code.
const RACER = `
import { lockProject } from ${JSON.stringify(join(src, 'tree', 'lock.ts'))};
import { exitCodeOf } from ${JSON.stringify(join(src, 'errors.ts'))};
process.stdin.once('data', async () => {
  try {
    const release = await lockProject(process.argv[2]);
    process.stdout.write('won\\n');
    process.stdin.once('end', () => release().then(() => process.exit(0)));
    process.stdin.resume();
  } catch (error) {
    process.stdout.write(error.message + '\\n');
    process.exit(exitCodeOf(error));
  }
});
process.stdout.write('ready\\n');
`;

beforeAll(async () => {
  await build({
    stdin: { contents: RACER, resolveDir: parent, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: racer,
    logLevel: 'error',
  });
});

/** A pid that no process has any more. */
async function gonePid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

interface Racer {
  child: ChildProcess;
  /** The first line after "ready": "won" or the refusal. */
  said: Promise<string>;
  exited: Promise<number | null>;
}

function startRacer(dir: string): { racer: Racer; ready: Promise<void> } {
  const child = spawn(process.execPath, [racer, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let out = '';
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const said = new Promise<string>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      if (lines.length > 1 && lines[0] === 'ready') onReady();
      if (lines.length > 2) resolve(lines[1]!);
    });
    void exited.then(() => resolve(out.split('\n')[1] ?? ''));
  });
  return { racer: { child, said, exited }, ready };
}

/**
 * One round: `count` processes race for a stale lock in a fresh folder. With `killedTakeover`,
 * a run killed in the middle of taking that lock over has left its takeover file behind too.
 */
async function race(name: string, count: number, killedTakeover = false) {
  const dir = join(parent, name);
  mkdirSync(dir);
  const stale = await gonePid();
  writeFileSync(join(dir, LOCK), `${stale}\n`);
  // Named after the stale lock's pid and (here empty) token, as src/tree/lock.ts documents.
  if (killedTakeover)
    writeFileSync(join(dir, `${LOCK}.takeover-${stale}-`), `${await gonePid()} x\n`);
  const started = Array.from({ length: count }, () => startRacer(dir));
  await Promise.all(started.map((s) => s.ready));
  const racers = started.map((s) => s.racer);
  for (const r of racers) r.child.stdin!.write('go\n');
  const said = await Promise.all(racers.map((r) => r.said));
  // Every racer has answered and the winners still hold the lock: now let them release it.
  for (const r of racers) r.child.stdin!.end();
  const codes = await Promise.all(racers.map((r) => r.exited));
  return { dir, said, codes };
}

/** Exactly one racer won and the others refused with the lock's message and exit code 1. */
function expectOneWinner({ dir, said, codes }: Awaited<ReturnType<typeof race>>) {
  expect(
    said.filter((line) => line === 'won'),
    said.join(' | '),
  ).toHaveLength(1);
  said.forEach((line, i) => {
    if (line === 'won') return expect(codes[i]).toBe(0);
    expect(line).toMatch(/^Another create-scalable-express run .*is changing .*: wait for it/);
    expect(codes[i]).toBe(1);
  });
  // The winner has released the lock: no lock, takeover or draft file is left.
  expect(readdirSync(dir)).toEqual([]);
}

describe('a stale lock raced by several processes', () => {
  // Several rounds: the old takeover (remove, then create) let two or more win in most of them.
  it('exactly one takes it over; the others refuse with exit code 1; nothing is left', async () => {
    for (let round = 0; round < 4; round++) expectOneWinner(await race(`round${round}`, 5));
  });

  it('a takeover file left by a killed run does not block the next takeover', async () => {
    for (let round = 0; round < 2; round++) expectOneWinner(await race(`killed${round}`, 4, true));
  });
});
