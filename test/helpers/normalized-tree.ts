import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { allFeatures } from '../../src/features/index.js';

const userOwned = new Set(allFeatures.flatMap((f) => f.createOnly ?? []));

/**
 * A project's files as `add` and `remove` must reproduce them from `create` (test/e2e/grow-full
 * and grow-full-remove compare a grown project with one created with the same features): merged
 * files by content, ignoring order inside them.
 */
export function normalizedTree(root: string): Map<string, unknown> {
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
