/**
 * Whether register.js started tracing in this process, and how to stop it. Kept apart from the
 * SDK so that the app (and its tests) never load the SDK when tracing is off.
 */
let stop: (() => Promise<void>) | undefined;

export function markTracingStarted(shutdown: () => Promise<void>): void {
  stop = shutdown;
}

export function tracingStarted(): boolean {
  return stop !== undefined;
}

/** How long shutdown waits for the last spans to be sent. */
export const FLUSH_TIMEOUT_MS = 3_000;

/**
 * Sends the spans still buffered and stops the SDK, bounded by a timeout so that an unreachable
 * collector never holds up the exit.
 */
export async function stopTracing(timeoutMs: number = FLUSH_TIMEOUT_MS): Promise<void> {
  const shutdown = stop;
  stop = undefined;
  if (!shutdown) return;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([shutdown(), gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}
