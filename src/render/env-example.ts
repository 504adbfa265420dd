import type { Feature, ProjectContext } from '../features/types.js';

/** .env.example: one paragraph per variable (a comment, then NAME=example), in feature order. */
export function renderEnvExample(project: ProjectContext, features: readonly Feature[]): string {
  const paragraphs = features.flatMap((feature) =>
    (feature.env?.(project) ?? []).map((v) => `# ${v.comment}\n${v.name}=${v.example}`),
  );
  return `${paragraphs.join('\n\n')}\n`;
}
