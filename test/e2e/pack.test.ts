import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the published package', () => {
  it('packs only what runs, and `npx ./<tarball> demo --yes` generates a project', async () => {
    const out = tempDir('cse-pack-');
    // --ignore-scripts: `prepare` would rebuild dist/ (removing it first) while other test files
    // run the built CLI; `npm test` has built it already.
    const pack = await execa(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', out],
      { cwd: root },
    );
    const [info] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = info.files.map((f) => f.path);
    expect(paths).toContain('bin/create-scalable-express.js');
    expect(paths).toContain('dist/cli.js');
    expect(paths).toContain('src/features/base/templates/src/app.ts');
    expect(paths).toContain('src/features/base/templates/_gitignore');
    expect(
      paths.filter(
        (p) =>
          p.startsWith('test/') ||
          (p.startsWith('src/') && p.endsWith('.ts') && !p.includes('/templates/')),
      ),
    ).toEqual([]);

    const result = await execa(
      'npx',
      [
        '--yes',
        `./${info.filename}`,
        'demo',
        '--yes',
        '--no-install',
        '--no-git',
        '--features',
        'redis',
      ],
      {
        cwd: out,
        env: { NO_COLOR: '1', npm_config_prefer_offline: 'true' },
        reject: false,
      },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(existsSync(join(out, 'demo', '.gitignore'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(out, 'demo', '.scalable-express.json'), 'utf8'));
    expect(manifest.features).toEqual(['redis']);
  });
});
