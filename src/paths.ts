import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The CLI package's root folder, from the built bundle (dist/) or the sources (src/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('create-scalable-express: cannot find its package root');
    dir = parent;
  }
  root = dir;
  return root;
}

export function templatesDir(featureId: string): string {
  return join(packageRoot(), 'src', 'features', featureId, 'templates');
}
