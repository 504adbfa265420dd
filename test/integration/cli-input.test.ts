/**
 * Strict input through the built CLI: each loose value is one line on stderr, exit code 2 and
 * nothing written; with --json the same error is one document on stdout, commander's own
 * errors (unknown option, missing argument, missing option value) included.
 */
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir('cse-input-');
writeFileSync(join(parent, 'a-file'), 'not a folder');
symlinkSync(join(parent, 'gone'), join(parent, 'dangling'));
writeFileSync(join(parent, 'mixed.json'), JSON.stringify({ features: ['redis', 5] }));
// A project whose package.json the user broke: add/remove/list must name it.
const broken = join(parent, 'broken');
mkdirSync(broken);
writeFileSync(join(broken, '.scalable-express.json'), '{}');
writeFileSync(join(broken, 'package.json'), '{ "name": "broken", ');

const cases: { name: string; args: string[]; message: RegExp }[] = [
  {
    name: '--features ","',
    args: ['a1', '--no-install', '--features', ','],
    message: /names no feature/,
  },
  {
    name: '--features ""',
    args: ['a2', '--no-install', '--features', ''],
    message: /names no feature/,
  },
  {
    name: '--port 0x50',
    args: ['a3', '--no-install', '--port', '0x50'],
    message: /--port must be a whole/,
  },
  {
    name: '--port 8e3',
    args: ['a4', '--no-install', '--port', '8e3'],
    message: /--port must be a whole/,
  },
  {
    name: '--port 80.0',
    args: ['a5', '--no-install', '--port', '80.0'],
    message: /--port must be a whole/,
  },
  {
    name: 'a non-string feature in an answers file',
    args: ['a6', '--no-install', '--config', 'mixed.json'],
    message: /"features" in mixed.json must list feature ids as strings, got 5/,
  },
  {
    name: 'a file as the directory of add (--cwd)',
    args: ['add', 'redis', '--cwd', 'a-file'],
    message: /--cwd a-file is a file/,
  },
  {
    name: 'a dangling symlink as --cwd',
    args: ['list', '--cwd', 'dangling'],
    message: /--cwd dangling: no such folder/,
  },
  {
    name: 'a dangling symlink as the directory to create',
    args: ['dangling', '--no-install'],
    message: /dangling is a symbolic link to a folder that does not exist/,
  },
  {
    name: 'a directory under a file',
    args: ['a-file/app', '--no-install'],
    message: /a-file\/app cannot be created: a folder above it is a file/,
  },
  {
    name: 'an invalid project package.json (add)',
    args: ['add', 'redis', '--cwd', 'broken', '--no-install'],
    message: /broken\/package.json is not valid JSON/,
  },
  {
    name: 'an invalid project package.json (remove)',
    args: ['remove', 'redis', '--cwd', 'broken', '--no-install'],
    message: /broken\/package.json is not valid JSON/,
  },
  {
    name: 'an invalid project package.json (list)',
    args: ['list', '--cwd', 'broken'],
    message: /broken\/package.json is not valid JSON/,
  },
  {
    name: 'an accented name suggests its transliteration',
    args: ['café-ñ', '--no-install'],
    message: /Try "cafe-n"/,
  },
  {
    name: 'conflicting explicit features, even with a preset',
    args: ['a7', '--no-install', '--preset', 'full', '--features', 'pino,winston'],
    message: /"winston" and "pino" conflict|"pino" and "winston" conflict/,
  },
];

function snapshot(): string[] {
  return readdirSync(parent, { recursive: true }).map(String).sort();
}

describe('loose input: one line, exit 2, nothing written', () => {
  it.each(cases)('$name', async ({ args, message }) => {
    const before = snapshot();
    // No terminal (stdin is ignored), so the CLI never prompts.
    const result = await runCli(args, { cwd: parent });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(snapshot()).toEqual(before);
  });

  it.each(cases)('$name, with --json: the error document on stdout', async ({ args, message }) => {
    const result = await runCli([...args, '--json'], { cwd: parent });
    expect(result.exitCode).toBe(2);
    const doc = JSON.parse(result.stdout) as { ok: boolean; error: { message: string } };
    expect(doc).toMatchObject({ ok: false, error: { exitCode: 2 } });
    expect(doc.error.message).toMatch(message);
  });
});

describe("commander's own errors honour --json", () => {
  const commanderCases = [
    {
      name: 'unknown option',
      args: ['a8', '--no-install', '--featurs', 'redis'],
      message: /unknown option/,
    },
    { name: 'missing argument', args: ['add'], message: /missing required argument/ },
    {
      name: 'option without its value',
      args: ['a9', '--json', '--pm'],
      message: /argument missing/,
    },
    { name: 'unknown option of a subcommand', args: ['list', '--bogus'], message: /unknown/ },
  ];
  it.each(commanderCases)('$name', async ({ args, message }) => {
    const before = snapshot();
    // --json goes last, unless it must come before an option left without its value.
    const result = await runCli(args.includes('--json') ? args : [...args, '--json'], {
      cwd: parent,
    });
    expect(result.exitCode).toBe(2);
    const doc = JSON.parse(result.stdout) as { ok: boolean; error: { message: string } };
    expect(doc).toMatchObject({ ok: false, error: { exitCode: 2 } });
    expect(doc.error.message).toMatch(message);
    expect(doc.error.message).not.toMatch(/^error:/);
    expect(snapshot()).toEqual(before);
  });
});

describe('what strict input still accepts', () => {
  it('preset names and feature ids are both case-insensitive', async () => {
    const result = await runCli(
      ['up', '--preset', 'FULL', '--features', 'PINO', '--dry-run', '--json'],
      { cwd: parent },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { features: string[] };
    // The explicit pick wins over the preset's conflicting one.
    expect(doc.features).toContain('pino');
    expect(doc.features).not.toContain('winston');
  });

  it('an answers file saved with a UTF-8 byte order mark', async () => {
    writeFileSync(join(parent, 'bom.json'), `\uFEFF${JSON.stringify({ features: ['redis'] })}`);
    const result = await runCli(['bommed', '--config', 'bom.json', '--dry-run', '--json'], {
      cwd: parent,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { features: string[] }).features).toEqual(['redis']);
  });
});
