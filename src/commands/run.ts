import { exitCodeOf, FailedError, InterruptedError, UsageError } from '../errors.js';
import type { Output } from '../ui/output.js';

/**
 * Runs an action and turns its outcome into output and an exit code: errors as one clear line
 * (plus details for failed steps), and with --json one document on stdout either way.
 */
export async function runAction<T extends object>(
  out: Output,
  json: boolean,
  partial: Partial<T>,
  action: () => Promise<T>,
): Promise<void> {
  try {
    const result = await action();
    if (json) process.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
    process.exitCode = 0;
  } catch (error) {
    const exitCode = exitCodeOf(error);
    const message =
      exitCode === 130 ? 'Interrupted.' : error instanceof Error ? error.message : String(error);
    process.stderr.write(`${out.color.red('error')} ${message}\n`);
    if (
      (error instanceof FailedError || error instanceof InterruptedError) &&
      error.details.length
    ) {
      process.stderr.write(`${error.details.map((l) => `  ${l}`).join('\n')}\n`);
    } else if (
      !(error instanceof UsageError) &&
      exitCode !== 130 &&
      error instanceof Error &&
      process.env.DEBUG
    ) {
      process.stderr.write(`${error.stack}\n`);
    }
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ ok: false, ...partial, error: { message, exitCode } }, null, 2)}\n`,
      );
    }
    process.exitCode = exitCode;
  }
}
