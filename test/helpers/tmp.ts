import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh temp folder, removed after the test file (kept when KEEP_TMP=1, for debugging). */
export function tempDir(prefix = 'cse-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => {
    if (!process.env.KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
