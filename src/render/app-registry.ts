import { appModuleOrder } from '../features/index.js';
import type { Feature } from '../features/types.js';

/** Feature ids that are not valid variable names as they are (`static` is reserved). */
const RESERVED = new Set(['static', 'default', 'import', 'export', 'package', 'public']);

function identifier(id: string): string {
  const name = id.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return RESERVED.has(name) ? `${name}Feature` : name;
}

/**
 * The generated app's `src/features/index.ts`: its one extension point. `add` and `remove`
 * rewrite this file instead of editing app code the user may have changed.
 */
export function renderAppRegistry(features: readonly Feature[]): string {
  const rank = (f: Feature): number => {
    const index = appModuleOrder.indexOf(f.id);
    if (index < 0)
      throw new Error(`feature "${f.id}" has an app module but no place in appModuleOrder`);
    return index;
  };
  const modules = features.filter((f) => f.appModule).sort((a, b) => rank(a) - rank(b));
  const imports = modules.map((f) => `import ${identifier(f.id)} from './${f.id}.js';\n`).join('');
  const names = modules.map((f) => identifier(f.id));
  const oneLine = `export const features: readonly Feature[] = [${names.join(', ')}];`;
  // Formatted as prettier would (printWidth 100), so the project's lint passes as generated.
  const declaration =
    oneLine.length <= 100
      ? oneLine
      : `export const features: readonly Feature[] = [\n${names.map((n) => `  ${n},\n`).join('')}];`;
  return [
    '// Owned by create-scalable-express: `add` and `remove` rewrite this file.',
    '// The installed features, in the order their setup runs (see src/feature.ts).',
    "import type { Feature } from '../feature.js';",
    imports ? imports.trimEnd() : undefined,
    '',
    declaration,
    '',
  ]
    .filter((line) => line !== undefined)
    .join('\n');
}
