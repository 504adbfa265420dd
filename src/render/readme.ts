import type { Feature } from '../features/types.js';
import type { FeatureTemplates, Locals } from './templates.js';

/** Each feature's README section lives in its templates folder under this name. */
export const README_TEMPLATE = '_readme.md.ejs';

export const sectionStart = (key: string): string => `<!-- section:${key} -->`;
export const sectionEnd = (key: string): string => `<!-- /section:${key} -->`;

/**
 * README.md: the base app's text, then one marked section per feature. The markers let `add` and
 * `remove` change a feature's section while keeping whatever the user wrote around them.
 */
export function renderReadme(
  features: readonly Feature[],
  templates: readonly FeatureTemplates[],
  locals: Locals,
): string {
  const parts: string[] = [];
  features.forEach((feature, i) => {
    const template = templates[i]?.get(README_TEMPLATE);
    if (typeof template !== 'function') return;
    const text = template(locals).trim();
    // The base README carries its own section markers; a feature's text is one section.
    parts.push(
      feature.hidden ? text : `${sectionStart(feature.id)}\n${text}\n${sectionEnd(feature.id)}`,
    );
  });
  return `${parts.join('\n\n')}\n`;
}
