/** A free TCP port on loopback: the same helper the CLI's verify step uses. */
export { freePort } from '../../src/verify/steps.js';

/** Polls `url` until it answers `status` (default 200) or the deadline passes. */
export async function waitForHttp(url: string, timeoutMs = 20_000, status = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url).catch(() => undefined);
    if (res?.status === status) return;
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer ${status} within ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
