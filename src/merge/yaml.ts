import { parseDocument, parse as parseYaml, visit } from 'yaml';
import { diff } from './patch.js';

/** A string a YAML 1.1 reader would take for something else ('no', '22:22', '.'). */
function ambiguousIn11(text: string): boolean {
  try {
    return parseYaml(text, { version: '1.1' }) !== text;
  } catch {
    return true;
  }
}

/**
 * The user's file and the generated versions are read as YAML 1.2 (a plain `build: .` stays a
 * string); what the merge adds is written like render/compose.ts writes it: single quotes (the
 * project's prettier style) around every string a YAML 1.1 reader would misread.
 */
export function mergeYaml(current: string, before: string, after: string): string {
  const doc = parseDocument(current);
  if (doc.errors.length) throw new Error(doc.errors[0]!.message);
  for (const { path, value } of diff(parseYaml(before || '{}') ?? {}, parseYaml(after) ?? {})) {
    if (value === undefined) {
      doc.deleteIn(path);
      continue;
    }
    const node = doc.createNode(value);
    visit(node, {
      Scalar(_, scalar) {
        if (typeof scalar.value === 'string' && ambiguousIn11(scalar.value))
          scalar.type = 'QUOTE_SINGLE';
      },
    });
    doc.setIn(path, node);
  }
  return doc.toString({ lineWidth: 0, singleQuote: true });
}
