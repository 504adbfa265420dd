import { decodeUtf8 } from './files.js';
import type { FileChange } from './plan.js';

export interface ChangeSummary {
  path: string;
  action: FileChange['action'];
  bytes: number;
}

export function summarize(changes: readonly FileChange[]): ChangeSummary[] {
  return changes.map((c) => ({
    path: c.path,
    action: c.action,
    bytes: Buffer.byteLength(c.content ?? ''),
  }));
}

export function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

/** A unified diff of one change, for `--dry-run` on add/remove and for conflicts. */
export async function unifiedDiff(
  path: string,
  beforeContent: string | Buffer | undefined,
  afterContent: string | Buffer | undefined,
): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  const before = asText(beforeContent);
  const after = asText(afterContent);
  return createTwoFilesPatch(
    before === undefined ? '/dev/null' : `a/${path}`,
    after === undefined ? '/dev/null' : `b/${path}`,
    before ?? '',
    after ?? '',
    undefined,
    undefined,
    { context: 3 },
  );
}

/** Diffs are for reading only: bytes that are not UTF-8 are shown as a note, not decoded. */
function asText(content: string | Buffer | undefined): string | undefined {
  if (content === undefined || typeof content === 'string') return content;
  return decodeUtf8(content) ?? `(${content.length} bytes that are not UTF-8 text)\n`;
}
