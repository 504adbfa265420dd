import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { templatesDir } from '../paths.js';

/** What a template is rendered with (see renderProject). */
export type Locals = Record<string, unknown>;

/**
 * One feature's templates folder: each file's path in it ('/'-separated) → its text, or for an
 * EJS template (`.ejs`) the function that renders it.
 */
export type FeatureTemplates = Map<string, string | ((locals: Locals) => string)>;

/**
 * Reads and compiles a feature's templates from src/features/<id>/templates, as the tests and
 * `tsx`-style runs see them. The bundle does not run this: scripts/build.mjs replaces this module
 * with one that holds every template precompiled, so that `create` reads no template file and
 * does not load EJS (same functions, same output: test/integration/create-precompiled.test.ts).
 */
export async function loadFeatureTemplates(featureId: string): Promise<FeatureTemplates> {
  const dir = templatesDir(featureId);
  const templates: FeatureTemplates = new Map();
  const files = listFiles(dir);
  const ejs = files.some((file) => file.endsWith('.ejs'))
    ? (await import('ejs')).default
    : undefined;
  for (const file of files) {
    const rel = relative(dir, file).split(sep).join('/');
    const source = readFileSync(file, 'utf8');
    if (ejs && rel.endsWith('.ejs')) {
      templates.set(rel, (locals) => ejs.render(source, locals, { filename: file }));
    } else {
      templates.set(rel, source);
    }
  }
  return templates;
}

function listFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
