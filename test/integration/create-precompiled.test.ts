/**
 * The bundle renders from templates precompiled at build time (scripts/build.mjs writes
 * dist/templates.cjs), the sources from the template files through EJS. Both must give the same
 * bytes: the built CLI's project is compared, file by file, with renderProject run on the sources
 * for the same input (read back from the project's manifest).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST_FILE } from '../../src/manifest.js';
import { renderProject } from '../../src/render/render.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir('cse-precompiled-');

function filesOf(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

describe('the built CLI writes what the sources render', () => {
  // full: every feature the preset holds; haproxy: a template that include()s nginx's with extra
  // locals; pnpm: the package manager's commands in the templates.
  for (const [name, args] of [
    ['full', ['--preset', 'full']],
    ['haproxy', ['--features', 'haproxy,redis', '--pm', 'pnpm']],
  ] as const) {
    it(`${name}: the same files, byte for byte`, async () => {
      const created = await runCli([name, ...args, '--yes', '--no-install', '--no-git'], {
        cwd: parent,
      });
      expect(created.exitCode, created.stderr).toBe(0);
      const root = join(parent, name);
      const manifest = JSON.parse(readFileSync(join(root, MANIFEST_FILE), 'utf8')) as {
        project: Parameters<typeof renderProject>[0];
        features: string[];
      };
      const tree = await renderProject({ ...manifest.project, features: manifest.features });
      const onDisk = filesOf(root).filter((path) => path !== MANIFEST_FILE);
      expect(onDisk).toEqual([...tree.keys()].sort());
      for (const [path, content] of tree) {
        expect(readFileSync(join(root, path), 'utf8'), path).toBe(content);
      }
    });
  }
});
