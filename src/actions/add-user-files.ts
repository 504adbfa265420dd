import { getFeature } from '../features/index.js';
import type { Manifest } from '../manifest.js';
import { renderProject } from '../render/render.js';
import { projectReader } from '../tree/files.js';
import type { FileChange } from '../tree/plan.js';

/**
 * The examples (Feature.createOnly) of the features `add` brings that are not in the project yet:
 * written once, as `create` would have written them, and the user's from then on (planChanges
 * never records them in the manifest). A file of that name already there is never touched.
 */
export async function missingUserFiles(
  directory: string,
  manifest: Manifest,
  target: readonly string[],
  added: readonly string[],
): Promise<FileChange[]> {
  const paths = [...new Set(added.flatMap((id) => getFeature(id)?.createOnly ?? []))];
  if (paths.length === 0) return [];
  const tree = await renderProject({ ...manifest.project, features: [...target] });
  const read = projectReader(directory);
  const changes: FileChange[] = [];
  for (const path of paths.sort()) {
    const content = tree.get(path);
    if (content !== undefined && (await read(path)) === undefined)
      changes.push({ path, action: 'create', content });
  }
  return changes;
}
