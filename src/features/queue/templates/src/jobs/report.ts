import { createHash } from 'node:crypto';

/**
 * An example job, yours to change (see src/jobs/index.ts): CPU-heavy work that would block an HTTP process
 * (iterated SHA-256, sized by the input and bounded). It yields to the event loop every few
 * milliseconds so that the worker keeps renewing its job locks and runs other jobs alongside.
 */

export const MAX_ROUNDS = 5_000_000;
const MAX_TEXT = 10_000;
/** Rounds between yields: roughly a millisecond of hashing. */
const SLICE = 2_000;

export interface ReportInput {
  text: string;
  rounds: number;
}

/** The input, or a message for a 400. */
export function parseReportInput(body: unknown): ReportInput | string {
  if (typeof body !== 'object' || body === null) return 'send a JSON object';
  const { text, rounds } = body as Record<string, unknown>;
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT) {
    return `text must be a string of 1 to ${MAX_TEXT} characters`;
  }
  if (
    typeof rounds !== 'number' ||
    !Number.isInteger(rounds) ||
    rounds < 1 ||
    rounds > MAX_ROUNDS
  ) {
    return `rounds must be a whole number from 1 to ${MAX_ROUNDS}`;
  }
  return { text, rounds };
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function report(data: unknown, job: { id: string }) {
  const input = parseReportInput(data);
  if (typeof input === 'string') throw new Error(`job ${job.id}: ${input}`);
  const started = performance.now();
  let digest = input.text;
  for (let done = 0; done < input.rounds; done += SLICE) {
    for (let i = done; i < Math.min(done + SLICE, input.rounds); i++) {
      digest = createHash('sha256').update(digest).digest('hex');
    }
    await yieldToLoop();
  }
  return {
    digest,
    rounds: input.rounds,
    ms: Math.round(performance.now() - started),
    // Which process ran it (the worker, or the app in-process).
    pid: process.pid,
  };
}
