import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  resolveCreateOptions,
  type CreateFlags,
  type ResolveEnvironment,
} from '../../src/options/create.js';
import type { Prompts } from '../../src/options/prompts.js';

const cwd = mkdtempSync(join(tmpdir(), 'cse-options-'));

function env(overrides: Partial<ResolveEnvironment> = {}): ResolveEnvironment {
  return {
    cwd,
    env: {},
    terminal: false,
    prompts: () => {
      throw new Error('prompts must not load in non-interactive mode');
    },
    ...overrides,
  };
}

const resolveWith = (flags: CreateFlags, overrides?: Partial<ResolveEnvironment>) =>
  resolveCreateOptions(flags, env(overrides));

describe('create options (non-interactive)', () => {
  it('applies defaults', async () => {
    const options = await resolveWith({ directory: 'svc', yes: true });
    expect(options).toMatchObject({
      directory: join(cwd, 'svc'),
      name: 'svc',
      features: [],
      packageManager: 'npm',
      port: 3000,
      install: true,
      verify: true,
      git: true,
      dryRun: false,
      force: false,
    });
  });

  it('requires a directory', async () => {
    await expect(resolveWith({ yes: true })).rejects.toThrow(/Missing the project directory/);
  });

  it('rejects names npm would refuse, with a suggestion', async () => {
    await expect(resolveWith({ directory: 'My App' })).rejects.toThrow(
      /"My App" cannot be used.*Try "my-app"/,
    );
    await expect(resolveWith({ directory: 'node_modules' })).rejects.toThrow(UsageError);
    await expect(resolveWith({ directory: '.hidden' })).rejects.toThrow(UsageError);
  });

  it('validates port, preset and package manager', async () => {
    await expect(resolveWith({ directory: 'a', port: '99999' })).rejects.toThrow(/--port/);
    await expect(resolveWith({ directory: 'a', port: 'http' })).rejects.toThrow(/--port/);
    await expect(resolveWith({ directory: 'a', preset: 'huge' })).rejects.toThrow(
      /Unknown preset "huge"/,
    );
    await expect(resolveWith({ directory: 'a', pm: 'bun' })).rejects.toThrow(
      /Unknown package manager "bun"/,
    );
  });

  it('takes only decimal ports, from flags and answers files alike', async () => {
    for (const port of ['0x50', '8e3', '80.0', ' 80', '', '0', '65536', '-1']) {
      await expect(resolveWith({ directory: 'a', port }), port).rejects.toThrow(/--port/);
    }
    await expect(resolveWith({ directory: 'a', port: 80.5 })).rejects.toThrow(/--port/);
    expect((await resolveWith({ directory: 'a', port: '8080' })).port).toBe(8080);
    expect((await resolveWith({ directory: 'a', port: 65535 })).port).toBe(65535);
  });

  it('refuses a --features value that names nothing', async () => {
    for (const features of [',', '', ' , ']) {
      await expect(resolveWith({ directory: 'a', features })).rejects.toThrow(/names no feature/);
    }
  });

  it('lets an explicit feature win over the preset pick it conflicts with', async () => {
    const options = await resolveWith({ directory: 'a', preset: 'Full', features: 'pino' });
    expect(options.features).toContain('pino');
    expect(options.features).not.toContain('winston');
  });

  it('suggests a transliterated name for accented letters', async () => {
    await expect(resolveWith({ directory: 'café-ñ' })).rejects.toThrow(/Try "cafe-n"/);
  });

  it('accepts an answers file with a UTF-8 byte order mark, refuses non-string features', async () => {
    const bom = join(cwd, 'bom.json');
    writeFileSync(bom, `\uFEFF${JSON.stringify({ directory: 'bommed', features: ['redis'] })}`);
    expect((await resolveWith({ config: bom })).features).toEqual(['redis']);
    const mixed = join(cwd, 'mixed.json');
    writeFileSync(mixed, JSON.stringify({ directory: 'x', features: ['redis', 5] }));
    await expect(resolveWith({ config: mixed })).rejects.toThrow(
      /"features" in .*mixed.json must list feature ids as strings, got 5/,
    );
  });

  it('points an interrupted project to how to finish or start over', async () => {
    const dir = join(cwd, 'half');
    mkdirSync(dir);
    writeFileSync(join(dir, '.scalable-express.json'), '{}');
    await expect(resolveWith({ directory: 'half' })).rejects.toThrow(
      /cd half && npm install.*remove the folder or re-run with --force/,
    );
    expect((await resolveWith({ directory: 'half', force: true })).force).toBe(true);
  });

  it('refuses a dangling symbolic link as the directory', async () => {
    symlinkSync(join(cwd, 'nowhere'), join(cwd, 'link'));
    await expect(resolveWith({ directory: 'link' })).rejects.toThrow(/symbolic link/);
  });

  it('combines a preset with extra features and resolves them', async () => {
    const options = await resolveWith({
      directory: 'a',
      preset: 'minimal',
      features: 'redis,metrics',
    });
    expect(options.features).toEqual(['redis', 'metrics']);
  });

  it('detects the package manager that launched it', async () => {
    const options = await resolveWith(
      { directory: 'a' },
      { env: { npm_config_user_agent: 'pnpm/9.0.0 node/v24' } },
    );
    expect(options.packageManager).toBe('pnpm');
  });

  it('--no-install implies no verify', async () => {
    const options = await resolveWith({ directory: 'a', install: false });
    expect(options.verify).toBe(false);
  });

  it('refuses a non-empty directory without --force, and accepts it with', async () => {
    const dir = join(cwd, 'busy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await expect(resolveWith({ directory: 'busy' })).rejects.toThrow(/busy is not empty.*--force/);
    expect((await resolveWith({ directory: 'busy', force: true })).force).toBe(true);
  });

  it('refuses a path that is a file', async () => {
    writeFileSync(join(cwd, 'afile'), 'x');
    await expect(resolveWith({ directory: 'afile' })).rejects.toThrow(/not a directory/);
  });

  it('reads an answers file; flags win', async () => {
    const file = join(cwd, 'answers.json');
    writeFileSync(
      file,
      JSON.stringify({ directory: 'from-file', features: ['redis'], port: 4000, git: false }),
    );
    const options = await resolveWith({ config: file, port: '5000' });
    expect(options).toMatchObject({
      name: 'from-file',
      features: ['redis'],
      port: 5000,
      git: false,
    });
  });

  it('explains a bad answers file', async () => {
    await expect(resolveWith({ config: 'missing.json' })).rejects.toThrow(
      /Cannot read the answers file missing.json: file not found/,
    );
    const bad = join(cwd, 'bad.json');
    writeFileSync(bad, '{ nope');
    await expect(resolveWith({ config: bad })).rejects.toThrow(/Cannot read the answers file/);
    const unknown = join(cwd, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ directory: 'x', colour: 'red' }));
    await expect(resolveWith({ config: unknown })).rejects.toThrow(/Unknown key "colour"/);
    const wrongType = join(cwd, 'wrong.json');
    writeFileSync(wrongType, JSON.stringify({ directory: 'x', install: 'yes' }));
    await expect(resolveWith({ config: wrongType })).rejects.toThrow(
      /"install" .* must be a boolean/,
    );
  });

  it('never prompts when CI is set, even on a terminal', async () => {
    await expect(resolveWith({}, { terminal: true, env: { CI: 'true' } })).rejects.toThrow(
      /Missing the project directory/,
    );
  });
});

describe('create options (interactive)', () => {
  it('asks for what is missing and nothing that was given', async () => {
    const asked: string[] = [];
    const prompts: Prompts = {
      directory: async () => (asked.push('directory'), 'asked-app'),
      confirmNonEmpty: async () => (asked.push('confirmNonEmpty'), false),
      features: async () => (asked.push('features'), ['redis']),
      packageManager: async (detected) => (asked.push(`packageManager:${detected}`), 'npm'),
      install: async () => (asked.push('install'), false),
      git: async () => (asked.push('git'), true),
    };
    const options = await resolveWith(
      { pm: 'npm' },
      { terminal: true, prompts: async () => prompts },
    );
    expect(asked).toEqual(['directory', 'features', 'install', 'git']);
    expect(options).toMatchObject({
      name: 'asked-app',
      features: ['redis'],
      install: false,
      verify: false,
      git: true,
    });
  });
});
