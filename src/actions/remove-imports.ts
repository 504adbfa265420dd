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
/** Bare specifiers (packages, with an optional subpath) in the same places. */
const PACKAGE_SPECIFIER =
  /(?:\bfrom|\bimport|\brequire)\s*\(?\s*['"]((?:@[\w.-]+\/)?[\w.-]+)(?:\/[^'"]*)?['"]/g;

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

type After = Map<string, { action: string; content?: string | Buffer }>;

/** Every package name in a package.json text's dependencies and devDependencies. */
function packagesOf(text: string | undefined): Set<string> {
  if (text === undefined) return new Set();
  try {
    const pkg = JSON.parse(text) as Record<string, unknown>;
    const names = [pkg.dependencies, pkg.devDependencies].flatMap((deps) =>
      deps && typeof deps === 'object' ? Object.keys(deps) : [],
    );
    return new Set(names);
  } catch {
    return new Set(); // Not valid JSON: the merge reports it as a conflict of its own.
  }
}

/**
 * The packages this run drops from package.json. `@types/x` counts as `x`: even if `x` stays,
 * importing it may no longer type-check.
 */
async function droppedPackages(root: string, after: After): Promise<Set<string>> {
  const change = after.get('package.json');
  if (change === undefined) return new Set();
  const before = await readProjectFile(root, 'package.json');
  const kept = packagesOf(
    typeof change.content === 'string' ? change.content : change.content?.toString('utf8'),
  );
  const dropped = new Set<string>();
  for (const name of packagesOf(before && decodeUtf8(before))) {
    if (kept.has(name)) continue;
    dropped.add(name);
    const typed = /^@types\/(.+)$/.exec(name)?.[1];
    if (typed) dropped.add(typed.includes('__') ? `@${typed.replace('__', '/')}` : typed);
  }
  return dropped;
}

/**
 * `remove` deletes the feature's files. If the user's own code (any .ts file under src/ or test/
 * that this run does not delete, read as it will be after the run) imports one of them, the
 * project would no longer build: refuse before writing anything, naming each importing file. The
 * same for a package it drops from package.json (the examples a feature wrote for the user, such
 * as postgres's /api/items, import its packages).
 * Generated files in conflict are read as the generator wants them: the conflict is reported on
 * its own, and --force makes them so.
 */
export async function refuseDeletingImported(
  root: string,
  plan: Plan,
  removed: readonly string[],
): Promise<void> {
  const after: After = new Map(plan.changes.map((c) => [c.path, c]));
  for (const conflict of plan.conflicts) {
    after.set(conflict.path, {
      action: conflict.generated === undefined ? 'delete' : 'update',
      ...(conflict.generated === undefined ? {} : { content: conflict.generated }),
    });
  }
  const deleted = new Set([...after].filter(([, c]) => c.action === 'delete').map(([p]) => p));
  const dropped = await droppedPackages(root, after);
  if (deleted.size === 0 && dropped.size === 0) return;
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
        if (target) problems.push(`${file} imports ${target}, which it would delete`);
      }
      const packages = new Set([...text.matchAll(PACKAGE_SPECIFIER)].map((m) => m[1]!));
      for (const name of [...packages].filter((p) => dropped.has(p)))
        problems.push(`${file} imports the package ${name}, which it would drop from package.json`);
    }
  }
  if (problems.length === 0) return;
  throw new FailedError(
    `Cannot remove ${removed.map((id) => `"${id}"`).join(', ')}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}. Delete or move that file (an example you no longer need), or drop the import, then re-run; nothing was changed.`,
    problems,
  );
}
