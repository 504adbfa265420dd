import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir();

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
};

describe('--dry-run', () => {
  it('lists every file with its size and writes nothing', async () => {
    const result = await runCli(['dry', '--preset', 'minimal', '--dry-run', '--yes'], {
      cwd: parent,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Dry run: would write \d+ files to dry/);
    expect(result.stdout).toMatch(/create\s+src\/app\.ts \d+(\.\d)? (B|KB)/);
    expect(result.stdout).toContain('.scalable-express.json');
    expect(existsSync(join(parent, 'dry'))).toBe(false);
  });

  it('with --json gives the same files as a real run', async () => {
    const dry = await runCli(['same', '--dry-run', '--json', '--yes'], { cwd: parent });
    const doc = JSON.parse(dry.stdout);
    expect(doc).toMatchObject({ ok: true, dryRun: true, name: 'same', steps: [] });
    expect(existsSync(join(parent, 'same'))).toBe(false);
    const real = await runCli(['same', '--no-install', '--no-git', '--json', '--yes'], {
      cwd: parent,
    });
    const written = JSON.parse(real.stdout);
    expect(written.files).toEqual(doc.files);
    for (const file of written.files as { path: string; bytes: number }[]) {
      expect(statSync(join(parent, 'same', file.path)).size).toBe(file.bytes);
    }
  });
});

describe('--json', () => {
  it('prints exactly one JSON document on stdout; human output goes to stderr', async () => {
    const result = await runCli(
      ['jsonapp', '--no-install', '--no-git', '--json', '--features', 'redis'],
      { cwd: parent },
    );
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      ok: true,
      name: 'jsonapp',
      directory: join(parent, 'jsonapp'),
      features: ['redis'],
      packageManager: 'npm',
      dryRun: false,
      steps: [],
    });
    expect(doc.files.length).toBeGreaterThan(10);
    expect(result.stderr).toContain('Writing');
  });
});

describe('--force', () => {
  it('keeps every other file byte for byte and saves replaced ones as .orig', async () => {
    const dir = join(parent, 'forced');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    writeFileSync(join(dir, 'data', 'blob.bin'), binary);
    writeFileSync(join(dir, 'README.md'), '# my notes\n');
    const result = await runCli(['forced', '--force', '--no-install', '--no-git', '--yes'], {
      cwd: parent,
    });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'data', 'blob.bin')).equals(binary)).toBe(true);
    expect(readFileSync(join(dir, 'README.md.orig'), 'utf8')).toBe('# my notes\n');
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('# forced');
    expect(result.stdout).toContain('README.md existed: yours is kept as README.md.orig');
  });
});

describe('the generated project', () => {
  it('records a manifest with the options, features and a hash per file', async () => {
    const result = await runCli(
      [
        'manifested',
        '--port',
        '4100',
        '--features',
        'metrics',
        '--no-install',
        '--no-git',
        '--yes',
      ],
      { cwd: parent },
    );
    expect(result.exitCode).toBe(0);
    const dir = join(parent, 'manifested');
    const manifest = JSON.parse(readFileSync(join(dir, '.scalable-express.json'), 'utf8'));
    expect(manifest).toMatchObject({
      generator: 'create-scalable-express',
      project: { name: 'manifested', port: 4100, packageManager: 'npm' },
      features: ['metrics'],
    });
    expect(Object.keys(manifest.files)).toEqual(
      expect.arrayContaining(['package.json', 'src/app.ts']),
    );
    expect(readFileSync(join(dir, '.env.example'), 'utf8')).toContain('PORT=4100');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe('>=22');
    expect(readdirSync(dir)).toContain('.gitignore');
  });

  it('initializes git with a first commit unless --no-git', async () => {
    const result = await runCli(['gitted', '--no-install', '--yes', '--json'], {
      cwd: parent,
      env: GIT_IDENTITY,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ git: { status: 'committed' } });
    const dir = join(parent, 'gitted');
    const git = (args: string[]) => execa('git', args, { cwd: dir, reject: false });
    expect((await git(['rev-parse', '--verify', 'HEAD'])).exitCode).toBe(0);
    expect((await git(['log', '--format=%s'])).stdout).toBe(
      'Initial commit from create-scalable-express',
    );
    // Every generated file is in that commit.
    expect((await git(['status', '--porcelain'])).stdout).toBe('');
    expect(existsSync(join(parent, 'forced', '.git'))).toBe(false);
  });

  it('skips git inside an existing repository, and says so', async () => {
    const repo = join(parent, 'monorepo');
    mkdirSync(repo);
    await execa('git', ['init', '-q'], { cwd: repo });
    const result = await runCli(['svc', '--no-install', '--yes'], { cwd: repo, env: GIT_IDENTITY });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Skipped git init: inside the git repository .*monorepo/);
    expect(existsSync(join(repo, 'svc', '.git'))).toBe(false);
    const head = await execa('git', ['rev-parse', '--verify', 'HEAD'], {
      cwd: repo,
      reject: false,
    });
    expect(head.exitCode).not.toBe(0);
  });

  it("a failed first commit is reported in git's words, not swallowed", async () => {
    const hooks = join(parent, 'failing-hooks');
    mkdirSync(hooks);
    writeFileSync(join(hooks, 'pre-commit'), '#!/bin/sh\necho "hook says no" >&2\nexit 1\n', {
      mode: 0o755,
    });
    const result = await runCli(['hooked', '--no-install', '--yes', '--json'], {
      cwd: parent,
      env: {
        ...GIT_IDENTITY,
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'core.hooksPath',
        GIT_CONFIG_VALUE_0: hooks,
      },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/the first commit failed: hook says no/);
    expect(JSON.parse(result.stdout)).toMatchObject({
      git: { status: 'initialized', reason: 'hook says no' },
    });
    expect(existsSync(join(parent, 'hooked', '.git'))).toBe(true);
  });
});

describe('a failed install', () => {
  it('exits 1, names the step, shows how to reproduce, and keeps the files', async () => {
    const cache = join(parent, 'empty-npm-cache');
    const result = await runCli(['offline', '--yes', '--no-git'], {
      cwd: parent,
      // An empty cache and offline mode: npm install fails at once, without network.
      env: {
        npm_config_offline: 'true',
        npm_config_cache: cache,
        npm_config_prefer_offline: undefined,
      },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/"npm install" failed/);
    expect(result.stderr).toMatch(/Reproduce: cd .*offline && npm install/);
    expect(result.stderr).toMatch(/The generated files are kept in offline/);
    expect(existsSync(join(parent, 'offline', 'src', 'app.ts'))).toBe(true);
  });
});
