import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { FailedError } from '../errors.js';
import { decodeUtf8, readProjectFile } from '../tree/files.js';
import type { Plan } from '../tree/plan.js';

/** The folders of the user's own code, and the files in them that import modules. */
const SCANNED = ['src', 'test'];
const CODE = /\.(?:[mc]?ts|tsx)$/;
/** Relative specifiers in `from '…'`, `import '…'`, `import('…')` and `require('…')`. */
const SPECIFIER = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

async function codeFiles(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    // Links are not followed (see tree/safe-path.ts); node_modules is not the user's code.
    if (entry.isDirectory() && entry.name !== 'node_modules')
      found.push(...(await codeFiles(root, path)));
    else if (entry.isFile() && CODE.test(entry.name)) found.push(path);
  }
  return found;
}

/** The project files a relative import from `from` may mean (TypeScript maps .js to .ts). */
function candidates(from: string, specifier: string): string[] {
  const path = posix.normalize(posix.join(posix.dirname(from), specifier));
  const stem = path.replace(/\.[mc]?js$/, '');
  return [path, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.cts`, `${path}/index.ts`];
}

/**
 * `remove` deletes the feature's files. If the user's own code (any .ts file under src/ or test/
 * that this run does not delete, read as it will be after the run) imports one of them, the
 * project would no longer build: refuse before writing anything, naming each importing file.
 * Generated files in conflict are read as the generator wants them: the conflict is reported on
 * its own, and --force makes them so.
 */
export async function refuseDeletingImported(
  root: string,
  plan: Plan,
  removed: readonly string[],
): Promise<void> {
  const after = new Map<string, { action: string; content?: string | Buffer }>(
    plan.changes.map((c) => [c.path, c]),
  );
  for (const conflict of plan.conflicts) {
    after.set(conflict.path, {
      action: conflict.generated === undefined ? 'delete' : 'update',
      ...(conflict.generated === undefined ? {} : { content: conflict.generated }),
    });
  }
  const deleted = new Set([...after].filter(([, c]) => c.action === 'delete').map(([p]) => p));
  if (deleted.size === 0) return;
  const problems: string[] = [];
  for (const dir of SCANNED) {
    for (const file of await codeFiles(root, dir)) {
      const change = after.get(file);
      if (change?.action === 'delete') continue;
      const content = change?.content ?? (await readProjectFile(root, file));
      if (content === undefined) continue;
      const text = typeof content === 'string' ? content : (decodeUtf8(content) ?? '');
      for (const match of text.matchAll(SPECIFIER)) {
        const target = candidates(file, match[1]!).find((c) => deleted.has(c));
        if (target) problems.push(`${file} imports ${target}`);
      }
    }
  }
  if (problems.length === 0) return;
  throw new FailedError(
    `Cannot remove ${removed.map((id) => `"${id}"`).join(', ')}: ${problems[0]}, which it would delete${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}. Remove the import first; nothing was changed.`,
    problems,
  );
}
