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
  before: string | undefined,
  after: string | undefined,
): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
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
