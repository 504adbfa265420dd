/**
 * The engine's shape: commands/ (argv → flags) → options/ (validate) → actions/ (act). Actions
 * and options never reach back into commands/, and the app-module order is one list.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allFeatures, appModuleOrder } from '../../src/features/index.js';
import { renderAppRegistry } from '../../src/render/app-registry.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every module a file imports (static, re-export or dynamic), as a path relative to src/. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(
    (m) => m[1]!,
  );
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) =>
      relative(SRC, resolve(dirname(file), s))
        .split('\\')
        .join('/'),
    );
}

function filesUnder(folder: string): string[] {
  return readdirSync(join(SRC, folder), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(SRC, folder, f));
}

describe('layering', () => {
  it('finds imports of every kind (the check itself works)', () => {
    const sample = join(SRC, 'commands', 'add.ts');
    expect(importsOf(sample)).toEqual(
      expect.arrayContaining(['commands/grow.js', 'actions/add.js', 'options/grow.js']),
    );
  });

  it.each(['actions', 'options'])('nothing under src/%s imports src/commands', (folder) => {
    const offenders = filesUnder(folder).flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('commands/'))
        .map((target) => `${relative(SRC, file)} → ${target}`),
    );
    expect(offenders).toEqual([]);
  });
});

describe('app-module order', () => {
  it('lists exactly the features that ship an app module, each once', () => {
    const withModule = allFeatures.filter((f) => f.appModule).map((f) => f.id);
    expect([...appModuleOrder].sort()).toEqual([...withModule].sort());
    expect(new Set(appModuleOrder).size).toBe(appModuleOrder.length);
  });

  it('is the order of the generated registry, whatever order features come in', () => {
    const reversed = [...allFeatures].reverse();
    const registry = renderAppRegistry(reversed);
    const imported = [...registry.matchAll(/from '\.\/([a-z-]+)\.js'/g)].map((m) => m[1]);
    expect(imported).toEqual(appModuleOrder);
  });
});
