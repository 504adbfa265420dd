/**
 * Three-way merge of structured data (package.json, docker-compose.yml): what changed between
 * the previous and the next generated version becomes a list of patches, applied to the user's
 * current version. Everything the user changed elsewhere survives.
 */
export type Path = readonly string[];
export interface Patch {
  path: Path;
  /** undefined means "delete". */
  value: unknown;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Patches that turn `before` into `after`, as deep as both sides are objects. */
export function diff(before: unknown, after: unknown, path: Path = []): Patch[] {
  if (deepEqual(before, after)) return [];
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) => diff(before[key], after[key], [...path, key]));
  }
  return [{ path, value: after }];
}

/** Applies patches to a plain object (a copy is returned). */
export function applyToObject(
  target: Record<string, unknown>,
  patches: readonly Patch[],
): Record<string, unknown> {
  const root = structuredClone(target);
  for (const { path, value } of patches) {
    let node: Record<string, unknown> = root;
    for (const key of path.slice(0, -1)) {
      if (!isPlainObject(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = path.at(-1);
    if (last === undefined) continue;
    if (value === undefined) delete node[last];
    else node[last] = structuredClone(value);
  }
  return root;
}
