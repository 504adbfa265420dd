import { applyToObject, diff, isPlainObject } from './patch.js';
import { mergeSections, type Section } from './sections.js';

/** Merges the user's `current` file with the change from `before` to `after` (both generated). */
export type MergeFile = (
  current: string,
  before: string,
  after: string,
) => string | Promise<string>;

const SORTED_KEYS = ['dependencies', 'devDependencies'];

const mergeJson: MergeFile = (current, before, after) => {
  const parsed: unknown = JSON.parse(current);
  if (!isPlainObject(parsed)) throw new Error('not a JSON object');
  const merged = applyToObject(parsed, diff(JSON.parse(before || '{}'), JSON.parse(after)));
  for (const key of SORTED_KEYS) {
    const deps = merged[key];
    if (isPlainObject(deps))
      merged[key] = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
  }
  return `${JSON.stringify(merged, null, 2)}\n`;
};

/** .env.example: one section per paragraph that ends in NAME=value (or `# NAME=value`, an optional one). */
function envSections(text: string): Section[] {
  return text
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => ({
      key: /^(?:#\s*)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(p.split('\n').at(-1) ?? '')?.[1] ?? null,
      text: p,
    }));
}

const mergeEnv: MergeFile = (current, before, after) =>
  `${mergeSections(envSections(current), envSections(before), envSections(after))
    .map((s) => s.text)
    .join('\n\n')}\n`;

/** README.md: marked sections (see render/readme.ts); text outside them is free. */
function readmeSections(text: string): Section[] {
  const sections: Section[] = [];
  const marker = /<!-- section:([\w-]+) -->[\s\S]*?<!-- \/section:\1 -->/g;
  let last = 0;
  for (const match of text.matchAll(marker)) {
    const free = text.slice(last, match.index).trim();
    if (free) sections.push({ key: null, text: free });
    sections.push({ key: match[1]!, text: match[0] });
    last = match.index + match[0].length;
  }
  const tail = text.slice(last).trim();
  if (tail) sections.push({ key: null, text: tail });
  return sections;
}

const mergeReadme: MergeFile = (current, before, after) =>
  `${mergeSections(readmeSections(current), readmeSections(before), readmeSections(after))
    .map((s) => s.text)
    .join('\n\n')}\n`;

/** Files several features contribute to are merged, never overwritten. */
export const mergeStrategies: Record<string, MergeFile> = {
  'package.json': mergeJson,
  // yaml is loaded only when a compose file is merged: it is the CLI's heaviest module.
  'docker-compose.yml': async (current, before, after) =>
    (await import('./yaml.js')).mergeYaml(current, before, after),
  '.env.example': mergeEnv,
  'README.md': mergeReadme,
};
