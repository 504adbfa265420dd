import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Feature } from '../features/types.js';
import { templatesDir } from '../paths.js';

/** Each feature's README section lives in its templates folder under this name. */
export const README_TEMPLATE = '_readme.md.ejs';

export const sectionStart = (key: string): string => `<!-- section:${key} -->`;
export const sectionEnd = (key: string): string => `<!-- /section:${key} -->`;

/**
 * README.md: the base app's text, then one marked section per feature. The markers let `add` and
 * `remove` change a feature's section while keeping whatever the user wrote around them.
 */
export async function renderReadme(
  features: readonly Feature[],
  locals: Record<string, unknown>,
): Promise<string> {
  const { default: ejs } = await import('ejs');
  const parts: string[] = [];
  for (const feature of features) {
    const file = join(templatesDir(feature.id), README_TEMPLATE);
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const text = ejs.render(source, locals, { filename: file }).trim();
    // The base README carries its own section markers; a feature's text is one section.
    parts.push(
      feature.hidden ? text : `${sectionStart(feature.id)}\n${text}\n${sectionEnd(feature.id)}`,
    );
  }
  return `${parts.join('\n\n')}\n`;
}
