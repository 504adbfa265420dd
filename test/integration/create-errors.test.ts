import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir();

/** Each case: the arguments a careless user might give, and the one line they must read. */
const cases: { name: string; args: string[]; message: RegExp }[] = [
  { name: 'no directory', args: ['--yes'], message: /Missing the project directory/ },
  {
    name: 'unknown feature',
    args: ['app1', '--features', 'redis,clustr', '--yes'],
    message: /Unknown feature "clustr". Did you mean "cluster"\?/,
  },
  {
    name: 'invalid package name',
    args: ['My Service', '--yes'],
    message: /"My Service" cannot be used as the project's npm package name.*Try "my-service"/,
  },
  {
    name: 'conflicting features',
    args: ['app2', '--features', 'cluster,pm2', '--yes'],
    message: /"cluster" and "pm2" conflict/,
  },
  {
    name: 'unknown preset',
    args: ['app3', '--preset', 'max', '--yes'],
    message: /Unknown preset "max"/,
  },
  {
    name: 'bad port',
    args: ['app4', '--port', '0', '--yes'],
    message: /--port must be a whole number from 1 to 65535/,
  },
  {
    name: 'unknown package manager',
    args: ['app5', '--pm', 'bun', '--yes'],
    message: /Unknown package manager "bun"/,
  },
  {
    name: 'unreadable answers file',
    args: ['--config', 'nope.json'],
    message: /Cannot read the answers file nope.json/,
  },
  {
    name: 'unknown option',
    args: ['app6', '--featurs', 'redis'],
    message: /unknown option '--featurs'/,
  },
];

describe('bad input: one clear line, exit code 2, nothing written', () => {
  it.each(cases)('$name', async ({ args, message }) => {
    const before = readdirSync(parent);
    const result = await runCli(args, { cwd: parent });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(
      result.stderr.includes('(Did you mean') ? 2 : 1,
    );
    expect(readdirSync(parent)).toEqual(before);
  });

  it('a non-empty directory without --force', async () => {
    const dir = join(parent, 'occupied');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.md'), 'precious');
    const result = await runCli(['occupied', '--yes'], { cwd: parent });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/occupied is not empty.*--force/);
    expect(readdirSync(dir)).toEqual(['notes.md']);
  });

  it('an existing project points to `add`', async () => {
    const dir = join(parent, 'existing');
    mkdirSync(dir);
    writeFileSync(join(dir, '.scalable-express.json'), '{}');
    const result = await runCli(['existing', '--yes'], { cwd: parent });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/already holds a create-scalable-express project.*add/);
  });

  it('--json reports the error as a document too', async () => {
    const result = await runCli(['app7', '--features', 'nope', '--json'], { cwd: parent });
    expect(result.exitCode).toBe(2);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ ok: false, error: { exitCode: 2 } });
    expect(doc.error.message).toMatch(/Unknown feature "nope"/);
    expect(existsSync(join(parent, 'app7'))).toBe(false);
  });
});

describe('help and version', () => {
  it('--help lists every option, the features and the exit codes', async () => {
    const result = await runCli(['--help']);
    expect(result.exitCode).toBe(0);
    for (const flag of [
      '--yes',
      '--features',
      '--preset',
      '--pm',
      '--no-install',
      '--no-verify',
      '--no-git',
      '--port',
      '--dry-run',
      '--force',
      '--json',
      '--config',
      '--verbose',
    ]) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toContain('cluster, pm2, redis');
    expect(result.stdout).toMatch(/130\s+interrupted/);
  });

  it('help and usage errors are plain text, wrapped by their length, even where colour is forced', async () => {
    // src/cli.ts measures and writes help as plain text (no escape codes to strip): true only
    // while nothing styles it. FORCE_COLOR makes chalk and commander use colour if anything did.
    for (const args of [['--help'], ['add', '--help'], ['service', '--help'], ['--nope']]) {
      const result = await runCli(args, { env: { FORCE_COLOR: '3', NO_COLOR: undefined } });
      const text = result.stdout + result.stderr;
      expect(text, args.join(' ')).not.toContain('\x1b');
      // Wrapped to the width (80 without a terminal): no line is longer.
      for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ exitCode: 0, stdout: pkg.version });
  });
});
