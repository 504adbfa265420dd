import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { presetFeatures } from '../../src/features/presets.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import { composeDocument } from '../../src/render/compose.js';
import { featureList, projectContext } from '../../src/render/render.js';
import { toYaml } from '../../src/render/to-yaml.js';
import { coveringSet } from '../helpers/suite-covering.js';

/** What compose.ts wrote with the `yaml` package before it had its own writer. */
const byYamlPackage = (doc: unknown): string =>
  stringify(doc, { lineWidth: 0, singleQuote: true, version: '1.1', aliasDuplicateObjects: false });

/** Every compose file the features make: the matrix's projects and the presets, with docker. */
function composeDocuments(): { label: string; doc: Record<string, unknown> }[] {
  const sets = [
    ...coveringSet(),
    presetFeatures('minimal'),
    presetFeatures('standard'),
    resolveFeatures(presetFeatures('full')),
  ];
  const docs: { label: string; doc: Record<string, unknown> }[] = [];
  for (const features of sets) {
    let withDocker: string[];
    try {
      withDocker = resolveFeatures([...features, 'docker']);
    } catch {
      continue; // a set docker conflicts with (none today)
    }
    for (const packageManager of ['npm', 'pnpm', 'yarn'] as const) {
      const project = projectContext({
        name: 'shop',
        port: 3000,
        packageManager,
        features: withDocker,
      });
      const doc = composeDocument(project, featureList(project));
      if (doc) docs.push({ label: `${packageManager}: ${withDocker.join(',')}`, doc });
    }
  }
  return docs;
}

describe('toYaml', () => {
  const docs = composeDocuments();

  it('writes every compose file byte for byte as the yaml package does', () => {
    expect(docs.length).toBeGreaterThan(30);
    for (const { label, doc } of docs) expect(toYaml(doc), label).toBe(byYamlPackage(doc));
  });

  // Strings a careless writer gets wrong: YAML 1.1 booleans and numbers, sexagesimal ports,
  // indicators, comments, quotes, line breaks, leading and trailing spaces, non-ASCII.
  const tricky = [
    '',
    'no',
    'Yes',
    'off',
    'y',
    'null',
    '~',
    '22:22',
    '8080:8080',
    '1_000',
    '0o17',
    '017',
    '0x1F',
    '1e3',
    '.5',
    '-.inf',
    '.NaN',
    '2026-11-29',
    '<<',
    '- item',
    '-q',
    '?',
    ': x',
    'a: b',
    'a #b',
    '#comment',
    'trailing:',
    ' lead',
    'trail ',
    "it's",
    '"double"',
    '{a}',
    '[a]',
    '*alias',
    '&anchor',
    '!tag',
    '|',
    '>',
    '%directive',
    '@at',
    '`tick',
    'two\nlines',
    'tab\there',
    'café',
    '${REDIS_PASSWORD:?set REDIS_PASSWORD}',
    'CMD-SHELL',
    'redis-server --requirepass "$$REDIS_PASSWORD"',
  ];

  it('reads back as it went in, under YAML 1.1 and 1.2, as keys and values', () => {
    for (const s of tricky) {
      const doc = { [s]: s, list: [s, { [s]: [s] }], n: 5, t: true, empty: [], none: {} };
      const text = toYaml(doc);
      for (const version of ['1.1', '1.2'] as const) {
        expect(
          parse(text, { version }),
          `${JSON.stringify(s)} in YAML ${version}:\n${text}`,
        ).toEqual(doc);
      }
    }
  });

  it('refuses what compose files never hold', () => {
    expect(() => toYaml({ f: () => undefined })).toThrow(/cannot write a function/);
  });
});
