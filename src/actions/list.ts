import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { selectableFeatures } from '../features/index.js';
import { MANIFEST_FILE, readManifest } from '../manifest.js';
import { JOURNAL_FILE, type Recovery } from '../tree/journal.js';
import type { Output } from '../ui/output.js';
import { recoverProject, withProjectLock } from './grow.js';

export interface ListedFeature {
  id: string;
  title: string;
  description: string;
  requires: string[];
  conflicts: string[];
  /** Only inside a project. */
  installed?: boolean;
}

export interface ListResult {
  /** The project folder, when the listing is for a project. */
  directory?: string;
  features: ListedFeature[];
  recovered?: Recovery;
}

/**
 * Every feature with its description, requirements and conflicts; inside a project (a folder
 * with a manifest) also whether it is installed. An explicit `--cwd` without a manifest is an
 * error; the current folder without one just lists.
 */
export async function listFeatures(
  options: { directory: string; explicit: boolean; json: boolean },
  out: Output,
): Promise<ListResult> {
  const res: ListResult = { features: [] };
  const inProject = options.explicit || existsSync(join(options.directory, MANIFEST_FILE));
  let installed: Set<string> | undefined;
  if (inProject) {
    // Recovering an interrupted run writes to the project: under the same lock as add and
    // remove (a journal may belong to a run still writing). Listing alone only reads, so a
    // read-only project can still be listed.
    if (existsSync(join(options.directory, JOURNAL_FILE))) {
      const recovered = await withProjectLock(options.directory, () =>
        recoverProject(options.directory, out),
      );
      if (recovered) res.recovered = recovered;
    }
    installed = new Set((await readManifest(options.directory)).features);
    res.directory = options.directory;
  }
  res.features = selectableFeatures.map((f) => ({
    id: f.id,
    title: f.title,
    description: f.description,
    requires: [...(f.requires ?? [])],
    conflicts: [...(f.conflicts ?? [])],
    ...(installed ? { installed: installed.has(f.id) } : {}),
  }));
  if (!options.json) print(res, out);
  return res;
}

function print(res: ListResult, out: Output): void {
  const { color } = out;
  const width = Math.max(...res.features.map((f) => f.id.length));
  for (const f of res.features) {
    const mark = f.installed === undefined ? '' : f.installed ? `${color.green('✔')} ` : '  ';
    out.info(`${mark}${color.bold(f.id.padEnd(width))}  ${f.title}`);
    const indent = ' '.repeat(mark ? width + 4 : width + 2);
    out.info(`${indent}${color.dim(f.description)}`);
    if (f.requires.length) out.info(`${indent}requires: ${f.requires.join(', ')}`);
    if (f.conflicts.length) out.info(`${indent}conflicts with: ${f.conflicts.join(', ')}`);
  }
  if (res.features.some((f) => f.installed !== undefined)) {
    const count = res.features.filter((f) => f.installed).length;
    out.line();
    out.info(`${count} installed in ${res.directory ?? '.'} (✔).`);
  }
}
