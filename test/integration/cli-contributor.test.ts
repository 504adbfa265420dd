/**
 * The contributor path in the README: its two commands must pass on a fresh clone in that
 * order, so the demo must land outside the repository (where lint and tests never see it);
 * an old Node must fail `npm install` at once; the package names its home and licence.
 */
import { execa, execaSync } from 'execa';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  repository: { url: string };
  bugs: { url: string };
  homepage: string;
  license: string;
};
const HOME = 'github.com/create-scalable-express/create-scalable-express';

function contributing(): string {
  const start = readme.indexOf('## Contributing');
  expect(start).toBeGreaterThan(-1);
  const next = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, next < 0 ? undefined : next);
}

describe('README Contributing', () => {
  it('generates its demo outside the repository, then runs npm test', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(contributing())![1]!;
    const commands = block
      .trim()
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim());
    expect(commands).toHaveLength(2);
    expect(commands[1]).toBe('npm test');
    const demo = /node bin\/create-scalable-express\.js (\S+)/.exec(commands[0]!)?.[1];
    expect(demo, commands[0]).toBeDefined();
    expect(relative(ROOT, resolve(ROOT, demo!))).toMatch(/^\.\.\//);
  });

  it('names the fast unit tests and the watch loop, and both scripts exist', () => {
    expect(contributing()).toContain('npm run test:unit');
    expect(contributing()).toContain('npm run dev');
    expect(pkg.scripts['test:unit']).toMatch(/vitest run test\/unit/);
    expect(pkg.scripts.dev).toMatch(/--watch/);
    expect(contributing()).toContain('### Add a feature');
  });
});

describe('package metadata', () => {
  it('names its repository, issue tracker and home page, and ships an MIT licence', () => {
    expect(pkg.repository.url).toContain(HOME);
    expect(pkg.bugs.url).toContain(`${HOME}/issues`);
    expect(pkg.homepage).toContain(HOME);
    expect(pkg.license).toBe('MIT');
    const licence = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(licence).toMatch(/^MIT License/);
    expect(licence).toContain('create-scalable-express contributors');
  });
});

describe('engine-strict', () => {
  const node20 = '/usr/bin/node';
  const version = existsSync(node20)
    ? execaSync(node20, ['--version'], { reject: false }).stdout
    : '';
  const available = /^v(1\d|20|21)\./.test(String(version));

  it.skipIf(!available && !process.env.CI)(
    'makes `npm install` on Node < 22 fail at once, before fetching anything',
    async () => {
      expect(available, `an old Node at ${node20} (found: ${version || 'none'})`).toBe(true);
      const dir = tempDir('cse-engine-');
      for (const file of ['package.json', 'package-lock.json', '.npmrc'])
        copyFileSync(join(ROOT, file), join(dir, file));
      const result = await execa(
        'npm',
        ['install', '--ignore-scripts', '--no-audit', '--no-fund'],
        {
          cwd: dir,
          // Node 20 and its npm first on PATH; a closed loopback port as the registry, so a run
          // that tried to install would fail on the network instead of reaching it.
          env: {
            ...process.env,
            PATH: `/usr/bin:/bin`,
            npm_config_registry: 'http://127.0.0.1:9/',
            npm_config_fetch_retries: '0',
          },
          extendEnv: false,
          reject: false,
          all: true,
        },
      );
      expect(result.exitCode).not.toBe(0);
      expect(String(result.all)).toMatch(/notsup Not compatible with your version of node/);
      expect(String(result.all)).not.toMatch(/ECONNREFUSED/);
      expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    },
  );
});
