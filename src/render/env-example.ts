import type { Feature, ProjectContext } from '../features/types.js';

/**
 * .env.example: one paragraph per variable (a comment, then NAME=example), in feature order. A
 * variable the app runs without (it needs a service you may not have) is commented out, so that
 * `cp .env.example .env` gives a first run that works and stays quiet.
 */
export function renderEnvExample(project: ProjectContext, features: readonly Feature[]): string {
  const paragraphs = features.flatMap((feature) =>
    (feature.env?.(project) ?? []).map(
      (v) => `# ${v.comment}\n${v.commented ? '# ' : ''}${v.name}=${v.example}`,
    ),
  );
  return `${paragraphs.join('\n\n')}\n`;
}
