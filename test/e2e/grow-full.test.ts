import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allFeatures } from '../../src/features/index.js';
import { presetFeatures } from '../../src/features/presets.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import { runCli } from '../helpers/cli.js';
import { sharedNodeModules, testBuildShared } from '../helpers/shared-modules.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `add` over every feature of the full preset (test/e2e/grow-full-remove.test.ts: `remove`; two
 * files so that the two halves run side by side). Each step is checked with the test-build
 * (build, lint, test, boot) against one shared install of every feature's dependencies
 * (test/helpers/shared-modules.ts); test/e2e/grow.test.ts does the same for a few features with
 * real installs through the CLI's own verify.
 */
const FULL = resolveFeatures(presetFeatures('full'));
const parent = tempDir('cse-grow-full-');
const reference = tempDir('cse-grow-full-ref-');

async function cli(args: string[], cwd = parent): Promise<void> {
  const result = await runCli(args, { cwd });
  expect(result.exitCode, `${args.join(' ')}\n${result.stderr}`).toBe(0);
}

/** The project's files; merged files are compared by content, ignoring order inside them. */
const userOwned = new Set(allFeatures.flatMap((f) => f.createOnly ?? []));

function normalizedTree(root: string): Map<string, unknown> {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((p) => !/^(node_modules|dist|\.git)(\/|$)/.test(p))
    // The user's own files (createOnly): `create` writes them with its features' examples, `add`
    // never touches them, so they are not part of what `add` must reproduce.
    .filter((p) => !userOwned.has(p));
  const sortDeep = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => [k, sortDeep(v)]),
        )
      : value;
  return new Map(
    files.sort().map((path) => {
      const text = readFileSync(join(root, path), 'utf8');
      if (path === 'package.json') return [path, sortDeep(JSON.parse(text))];
      if (path === 'docker-compose.yml') return [path, sortDeep(parse(text))];
      if (path === 'README.md' || path === '.env.example')
        return [
          path,
          text
            .split(/\n{2,}/)
            .map((p) => p.trim())
            .sort(),
        ];
      if (path === '.scalable-express.json') {
        const manifest = JSON.parse(text) as {
          features: string[];
          project: unknown;
          files: Record<string, string>;
        };
        return [
          path,
          {
            features: manifest.features,
            project: manifest.project,
            files: Object.keys(manifest.files).sort(),
          },
        ];
      }
      return [path, text];
    }),
  );
}

beforeAll(async () => {
  await sharedNodeModules();
}, 600_000);

describe('minimal → every feature of full', () => {
  it('added all at once gives the same files as create --preset full', async () => {
    await cli(['all-at-once', '--preset', 'minimal', '--yes', '--no-install', '--no-git']);
    await cli(['add', ...FULL, '--cwd', 'all-at-once', '--no-install']);
    // Same project name, so that name-derived values (.env.example, README) are comparable.
    await cli(['all-at-once', '--preset', 'full', '--yes', '--no-install', '--no-git'], reference);
    expect(normalizedTree(join(parent, 'all-at-once'))).toEqual(
      normalizedTree(join(reference, 'all-at-once')),
    );
  });

  describe('added one at a time: the test-build passes after each step', () => {
    const dir = join(parent, 'one-by-one');
    beforeAll(() =>
      cli(['one-by-one', '--preset', 'minimal', '--yes', '--no-install', '--no-git']),
    );
    for (const id of FULL) {
      it(`add ${id}`, async () => {
        await cli(['add', id, '--cwd', dir, '--no-install']);
        await testBuildShared(dir);
      });
    }
  });
});
