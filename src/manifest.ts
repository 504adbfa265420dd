import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from './errors.js';
import type { ProjectInput } from './render/render.js';

export const MANIFEST_FILE = '.scalable-express.json';

/** What the CLI records in every generated project, for `add` and `remove` later. */
export interface Manifest {
  generator: 'create-scalable-express';
  version: string;
  project: Omit<ProjectInput, 'features'>;
  features: string[];
  /** sha256 of every generated file as the CLI last wrote it: an edit by the user changes it. */
  files: Record<string, string>;
}

export function hashContent(content: string): string {
  return `sha256-${createHash('sha256').update(content).digest('base64')}`;
}

export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Reads the manifest of the project in `dir`; a clear UsageError when there is none. */
export async function readManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    throw new UsageError(
      `No ${MANIFEST_FILE} in ${dir}: this is not a project made by create-scalable-express (use --cwd to point at one).`,
    );
  }
  try {
    const manifest = JSON.parse(text) as Manifest;
    if (manifest.generator !== 'create-scalable-express' || !Array.isArray(manifest.features))
      throw new Error();
    return manifest;
  } catch {
    throw new UsageError(
      `${join(dir, MANIFEST_FILE)} is not a valid create-scalable-express manifest.`,
    );
  }
}
