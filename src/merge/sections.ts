/**
 * Three-way merge of documents made of keyed sections (README sections, .env.example variables).
 * Sections the user added or edited, and all free text between sections, are kept; a section the
 * generator changed is replaced, one it no longer has is dropped, a new one is inserted after the
 * section that precedes it in the generated document.
 */
export interface Section {
  /** null for free text that belongs to no key (kept as it is). */
  key: string | null;
  text: string;
}

export function mergeSections(current: Section[], before: Section[], after: Section[]): Section[] {
  const beforeByKey = new Map(before.filter((s) => s.key).map((s) => [s.key!, s.text]));
  const afterByKey = new Map(after.filter((s) => s.key).map((s) => [s.key!, s.text]));
  const result: Section[] = [];
  for (const section of current) {
    if (section.key === null) {
      result.push(section);
      continue;
    }
    const was = beforeByKey.get(section.key);
    const next = afterByKey.get(section.key);
    if (next === undefined) {
      if (was === undefined) result.push(section); // the user's own section
      continue; // the generator dropped it
    }
    result.push(was === next ? section : { key: section.key, text: next });
  }
  const present = new Set(result.map((s) => s.key));
  let anchor: string | null = null;
  for (const section of after) {
    if (section.key === null) continue;
    if (!present.has(section.key)) {
      const at = anchor === null ? -1 : result.findIndex((s) => s.key === anchor);
      result.splice(at + 1, 0, section);
      present.add(section.key);
    }
    anchor = section.key;
  }
  return result;
}
