import type { Feature, ProjectContext } from '../features/types.js';

/** docker-compose.yml, from the services every feature contributes; only with `docker`. */
export async function renderCompose(
  project: ProjectContext,
  features: readonly Feature[],
): Promise<string | undefined> {
  if (!project.has('docker')) return undefined;
  const services: Record<string, unknown> = {};
  for (const feature of features) Object.assign(services, feature.composeServices?.(project));
  // singleQuote: the project's prettier style. YAML 1.1 quotes strings such as 'no' or '22:22' that
  // 1.1 parsers would read as booleans or numbers.
  const { stringify } = await import('yaml');
  return stringify({ services }, { lineWidth: 0, singleQuote: true, version: '1.1' });
}
