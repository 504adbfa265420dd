/** Exit codes, as documented in the README. */
export const ExitCode = {
  ok: 0,
  /** Install, verify or a file conflict failed; the files are kept. */
  failed: 1,
  /** Bad input: nothing was written. */
  usage: 2,
  /** Interrupted by the user (Ctrl-C). */
  interrupted: 130,
} as const;

/** Wrong or missing input. Printed as one line; exit code 2; nothing written. */
export class UsageError extends Error {
  readonly exitCode = ExitCode.usage;
}

/** A step after writing failed (install, build, test, boot) or files conflict. Exit code 1. */
export class FailedError extends Error {
  readonly exitCode = ExitCode.failed;
  constructor(
    message: string,
    /** Extra lines shown under the message (output tail, a diff, how to reproduce). */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export class InterruptedError extends Error {
  readonly exitCode = ExitCode.interrupted;
  constructor(
    /** Extra lines shown under "Interrupted." (how to finish or start over). */
    readonly details: string[] = [],
  ) {
    super('Interrupted.');
  }
}

export function exitCodeOf(error: unknown): number {
  if (
    error instanceof UsageError ||
    error instanceof FailedError ||
    error instanceof InterruptedError
  ) {
    return error.exitCode;
  }
  // Inquirer throws ExitPromptError when the user presses Ctrl-C at a prompt.
  if (error instanceof Error && error.name === 'ExitPromptError') return ExitCode.interrupted;
  return ExitCode.failed;
}
