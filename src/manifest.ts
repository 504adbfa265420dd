import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { UsageError } from './errors.js';
import type { PackageManager } from './features/types.js';
import { packageManagers } from './pm.js';
import type { ProjectInput } from './render/render.js';
import { decodeUtf8, readProjectFile } from './tree/files.js';
import { isPlainRelativePath } from './tree/safe-path.js';

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

export function hashContent(content: string | Uint8Array): string {
  return `sha256-${createHash('sha256').update(content).digest('base64')}`;
}

export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What is wrong with a parsed manifest, or undefined when its shape is right. */
function shapeProblem(data: unknown): string | undefined {
  if (!isObject(data) || data.generator !== 'create-scalable-express')
    return '"generator" is not "create-scalable-express"';
  if (typeof data.version !== 'string') return '"version" must be a string';
  const project = data.project;
  if (!isObject(project)) return '"project" must be an object';
  if (typeof project.name !== 'string') return '"project.name" must be a string';
  if (!Number.isInteger(project.port)) return '"project.port" must be an integer';
  if (!packageManagers.includes(project.packageManager as PackageManager))
    return `"project.packageManager" must be one of ${packageManagers.join(', ')}`;
  if (!Array.isArray(data.features) || !data.features.every((f) => typeof f === 'string'))
    return '"features" must be a list of feature names';
  if (!isObject(data.files)) return '"files" must be an object of path → hash';
  for (const [path, hash] of Object.entries(data.files)) {
    if (!isPlainRelativePath(path))
      return `"files" names ${JSON.stringify(path)}, outside the project`;
    if (typeof hash !== 'string') return `"files" has no hash string for ${path}`;
  }
  return undefined;
}

/**
 * Reads the manifest of the project in `dir`: a UsageError (exit 2, one line naming the file) when
 * there is none, when it is a link, or when its shape or any path in it is wrong.
 */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = join(dir, MANIFEST_FILE);
  const bytes = await readProjectFile(dir, MANIFEST_FILE).catch((error: unknown) => {
    if (error instanceof UsageError) throw error;
    return undefined;
  });
  if (bytes === undefined) {
    throw new UsageError(
      `No ${MANIFEST_FILE} in ${dir}: this is not a project made by create-scalable-express (use --cwd to point at one).`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(decodeUtf8(bytes) ?? '');
  } catch {
    throw new UsageError(`${file} is not a valid create-scalable-express manifest: not JSON.`);
  }
  const problem = shapeProblem(data);
  if (problem) {
    throw new UsageError(`${file} is not a valid create-scalable-express manifest: ${problem}.`);
  }
  return data as Manifest;
}
