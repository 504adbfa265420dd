import { readManifest } from '../manifest.js';
import { featureList, projectContext } from '../render/render.js';

/**
 * The variables the project's features ask for when verify boots the built app in production
 * mode (Feature.verifyEnv): none for a project without such a feature.
 */
export async function featureBootEnv(directory: string): Promise<Record<string, string>> {
  const manifest = await readManifest(directory);
  const project = projectContext({ ...manifest.project, features: manifest.features });
  const env: Record<string, string> = {};
  for (const feature of featureList(project)) Object.assign(env, feature.verifyEnv?.(project));
  return env;
}
