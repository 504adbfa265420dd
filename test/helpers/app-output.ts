import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type LogLine = Record<string, unknown>;

/** The generated project's `start` script as the argv startApp takes (without `node`). */
export function startArgs(dir: string): string[] {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [node, ...args] = (pkg.scripts.start ?? '').trim().split(/\s+/);
  if (node !== 'node') throw new Error(`start script does not run node: ${pkg.scripts.start}`);
  return args;
}

/** Every line of a process's output that is a JSON object, parsed; other lines are returned apart. */
export function parseLines(output: string): { json: LogLine[]; other: string[] } {
  const json: LogLine[] = [];
  const other: string[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object' && !Array.isArray(value)) json.push(value as LogLine);
      else other.push(line);
    } catch {
      other.push(line);
    }
  }
  return { json, other };
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  check: () => T | undefined,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
