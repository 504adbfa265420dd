import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type IPty } from 'node-pty';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir();

/** The CLI in a real pseudo-terminal, as a person would run it. */
function terminal(args: string[]): {
  pty: IPty;
  screen: () => string;
  exit: Promise<number>;
  waitFor: (text: string | RegExp) => Promise<void>;
} {
  const env = { ...process.env, NO_COLOR: '1' } as Record<string, string>;
  delete env.CI;
  const pty = spawn(process.execPath, [BIN, ...args], { cwd: parent, env, cols: 120, rows: 40 });
  let output = '';
  pty.onData((data) => (output += data));
  const exit = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  const waitFor = async (text: string | RegExp): Promise<void> => {
    const deadline = Date.now() + 15_000;
    const seen = () => (typeof text === 'string' ? output.includes(text) : text.test(output));
    while (!seen()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${String(text)}; screen:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { pty, screen: () => output, exit, waitFor };
}

const DOWN = '\x1b[B';

describe('interactive create in a terminal', () => {
  it('asks for the directory, features, package manager, install and git, then summarizes', async () => {
    const t = terminal([]);
    await t.waitFor('Project directory');
    t.pty.write('pty-app\r');
    await t.waitFor('Scaling features');
    // cluster, pm2, redis: move to redis and select it.
    t.pty.write(`${DOWN}${DOWN} `);
    t.pty.write('\r');
    await t.waitFor('Package manager');
    t.pty.write('\r');
    await t.waitFor('Install dependencies');
    t.pty.write('n\r');
    await t.waitFor('git repository');
    t.pty.write('n\r');
    expect(await t.exit).toBe(0);
    expect(t.screen()).toContain('Created pty-app');
    expect(t.screen()).toContain('cd pty-app');
    const manifest = JSON.parse(
      readFileSync(join(parent, 'pty-app', '.scalable-express.json'), 'utf8'),
    );
    expect(manifest.features).toEqual(['redis']);
    expect(existsSync(join(parent, 'pty-app', '.git'))).toBe(false);
  });

  it('asks nothing that flags already answered', async () => {
    const t = terminal([
      'flagged',
      '--features',
      'metrics',
      '--pm',
      'npm',
      '--no-install',
      '--no-git',
    ]);
    expect(await t.exit).toBe(0);
    expect(t.screen()).not.toMatch(/\?/);
    expect(t.screen()).toContain('Created flagged');
  });

  it('Ctrl-C at a prompt exits 130 and writes nothing', async () => {
    const before = readdirSync(parent);
    const t = terminal(['cancelled']);
    await t.waitFor('Scaling features');
    t.pty.write('\x03');
    expect(await t.exit).toBe(130);
    expect(readdirSync(parent)).toEqual(before);
  });
});

describe('Ctrl-C while writing', () => {
  it('removes everything this run wrote, and exits 130', async () => {
    const child = execa(process.execPath, [BIN, 'halfway', '--yes', '--no-install', '--no-git'], {
      cwd: parent,
      reject: false,
      // Test seam: slow each file write down so the interrupt lands halfway.
      env: { CSE_TEST_WRITE_DELAY_MS: '100', NO_COLOR: '1' },
    });
    const dir = join(parent, 'halfway');
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(dir, 'README.md')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(dir)).toBe(true);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain('Interrupted');
    expect(existsSync(dir)).toBe(false);
  });
});
