import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Whether a generated project's package.json declares everything the project uses. Tests that
 * share one install of every feature's packages (test/helpers/shared-modules.ts) cannot notice a
 * missing declaration by building: this check can. It reads every import, export-from, require
 * and dynamic import in the project's own code and config files (src/, test/, eslint.config.js,
 * vitest.config.ts, *.cjs ...), every `--import`/`-r` preload and every command in its scripts.
 */
const CODE = /\.(?:[cm]?[jt]s)$/;
const SKIP = /^(?:node_modules|dist|coverage|\.git)(?:\/|$)/;

/** The package a bare specifier names: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function codeFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && CODE.test(e.name))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .filter((path) => !SKIP.test(path))
    .sort();
}

/** Commands a script runs (the first word of each `&&`, `||`, `;` or `|` part) and its preloads. */
function scriptUses(script: string): { commands: string[]; preloads: string[] } {
  const commands: string[] = [];
  const preloads: string[] = [];
  for (const part of script.split(/&&|\|\||[;|]/)) {
    const words = part.trim().split(/\s+/).filter(Boolean);
    while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words.shift(); // FOO=bar cmd
    if (words[0] === 'npx') words.shift(); // npx runs a package's binary too
    if (words[0]) commands.push(words[0]);
    words.forEach((word, i) => {
      if (['--import', '-r', '--require'].includes(word) && words[i + 1])
        preloads.push(words[i + 1]!);
    });
  }
  return { commands, preloads };
}

/** The package that provides each command in `nodeModules` (from each package's `bin`). */
function binaries(nodeModules: string): Map<string, string> {
  const owners = new Map<string, string>();
  const add = (name: string): void => {
    const file = join(nodeModules, name, 'package.json');
    if (!existsSync(file)) return;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { bin?: string | Record<string, string> };
    if (typeof pkg.bin === 'string') owners.set(name.split('/').pop()!, name);
    else for (const bin of Object.keys(pkg.bin ?? {})) owners.set(bin, name);
  };
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@'))
      for (const sub of readdirSync(join(nodeModules, entry))) add(`${entry}/${sub}`);
    else add(entry);
  }
  return owners;
}

/**
 * What the project uses without declaring it, as "file: specifier" lines (empty when complete).
 * With `nodeModules` (an install holding at least every declared package), script commands are
 * checked too: each must be Node's, npm's or a declared package's binary.
 */
export function undeclaredUses(dir: string, nodeModules?: string): string[] {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name?: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    scripts?: Record<string, string>;
  };
  const declared = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
  ]);
  const problems: string[] = [];
  const check = (where: string, specifier: string): void => {
    const name = packageOf(specifier);
    if (name && name !== pkg.name && !declared.has(name))
      problems.push(`${where}: ${specifier} (package "${name}" is not in package.json)`);
  };
  for (const file of codeFiles(dir)) {
    const info = ts.preProcessFile(readFileSync(join(dir, file), 'utf8'), true, true);
    for (const ref of info.importedFiles) check(file, ref.fileName);
  }
  const owners = nodeModules ? binaries(nodeModules) : undefined;
  for (const [name, script] of Object.entries(pkg.scripts ?? {})) {
    const uses = scriptUses(script);
    for (const preload of uses.preloads) check(`scripts.${name}`, preload);
    if (!owners) continue;
    for (const command of uses.commands) {
      if (['node', 'npm', 'cd', 'echo', 'exit', 'true'].includes(command)) continue;
      const owner = owners.get(command);
      if (!owner || !declared.has(owner))
        problems.push(
          `scripts.${name}: ${command} (${owner ? `package "${owner}"` : 'no package'} is not in package.json)`,
        );
    }
  }
  return problems;
}
