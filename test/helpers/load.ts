import { Agent, request } from 'node:http';

export interface LoadResult {
  /** Requests answered with a status below 500. */
  ok: number;
  /** Connections the server refused (its listener was closed): never accepted, not failures. */
  refused: number;
  /**
   * Requests the server had accepted that failed: a 5xx, or a reset, hang-up or timeout on a
   * connection the server had already answered on (a reused keep-alive connection) or after part
   * of the response arrived.
   */
  failures: string[];
  /**
   * New connections reset before the server answered anything: the kernel completed the handshake
   * but the listener closed before the application accepted them (its accept queue is reset on
   * close). Like refusals, these never reached the application.
   */
  resetBeforeAccept: number;
  /** Status codes seen, with counts. */
  statuses: Record<number, number>;
}

export interface LoadOptions {
  /** Concurrent request loops. */
  concurrency: number;
  /** Stop starting new requests after this long. */
  durationMs: number;
  /** Stop starting new requests after this many in all (a bound on the work). */
  maxRequests?: number;
  /** Pause between a loop's requests, to keep the load steady rather than saturating. */
  pauseMs?: number;
  /** Give up on a request after this long (counted as a failure: the point is "does not hang"). */
  requestTimeoutMs?: number;
  /** Reuse connections (keep-alive, as proxies and browsers do) or open one per request. */
  keepAlive?: boolean;
  /** Stop the loops early when this resolves. */
  until?: Promise<unknown>;
}

type Outcome =
  | { kind: 'ok'; status: number }
  | { kind: 'refused' }
  | { kind: 'reset-before-accept' }
  | { kind: 'failure'; why: string };

function once(url: string, agent: Agent, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let connected = false;
    let accepted = false;
    let reused = false;
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = request(url, { agent }, (res) => {
      accepted = true;
      res.resume();
      res.once('end', () => {
        if (res.statusCode !== undefined && res.statusCode < 500)
          settle({ kind: 'ok', status: res.statusCode });
        else settle({ kind: 'failure', why: `status ${res.statusCode}` });
      });
      res.once('error', (error) => settle({ kind: 'failure', why: `response ${error.message}` }));
    });
    req.once('socket', (socket) => {
      // A reused keep-alive socket is already connected and was accepted (it carried an answer);
      // a new one connects (or is refused).
      if (!socket.connecting) connected = accepted = reused = true;
      else socket.once('connect', () => (connected = true));
    });
    req.setTimeout(timeoutMs, () => {
      settle({ kind: 'failure', why: `no answer within ${timeoutMs}ms` });
      req.destroy();
    });
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected && error.code === 'ECONNREFUSED') settle({ kind: 'refused' });
      else if (!accepted && error.code === 'ECONNRESET') settle({ kind: 'reset-before-accept' });
      else {
        const where = reused ? 'on a reused connection' : 'on a new connection';
        settle({ kind: 'failure', why: `${error.code ?? ''} ${error.message} ${where}`.trim() });
      }
    });
    req.end();
  });
}

/**
 * A bounded request load on loopback: `concurrency` loops, each sending one request at a time,
 * for at most `durationMs` and `maxRequests` requests in all. Classifies every outcome so that a
 * test can tell "refused after the listener closed" from "accepted, then failed".
 */
export async function runLoad(url: string, options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({
    keepAlive: options.keepAlive ?? true,
    maxSockets: options.concurrency,
  });
  const result: LoadResult = {
    ok: 0,
    refused: 0,
    failures: [],
    resetBeforeAccept: 0,
    statuses: {},
  };
  const end = Date.now() + options.durationMs;
  const max = options.maxRequests ?? Number.POSITIVE_INFINITY;
  let started = 0;
  let stop = false;
  void options.until?.then(() => (stop = true));
  const loop = async (): Promise<void> => {
    while (!stop && Date.now() < end && started < max) {
      started++;
      const outcome = await once(url, agent, options.requestTimeoutMs ?? 10_000);
      if (outcome.kind === 'ok') {
        result.ok++;
        result.statuses[outcome.status] = (result.statuses[outcome.status] ?? 0) + 1;
      } else if (outcome.kind === 'refused' || outcome.kind === 'reset-before-accept') {
        if (outcome.kind === 'refused') result.refused++;
        else result.resetBeforeAccept++;
        // Nobody listens any more: back off instead of spinning on refusals.
        await new Promise((resolve) => setTimeout(resolve, 20));
      } else result.failures.push(outcome.why);
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  agent.destroy();
  return result;
}

/** One GET on a fresh connection (no pooled socket to a process that may be gone). */
export async function getFresh(url: string, timeoutMs = 5_000): Promise<number> {
  const agent = new Agent({ keepAlive: false });
  try {
    const outcome = await once(url, agent, timeoutMs);
    if (outcome.kind === 'ok') return outcome.status;
    throw new Error(`GET ${url}: ${outcome.kind === 'failure' ? outcome.why : outcome.kind}`);
  } finally {
    agent.destroy();
  }
}

/** The pids of a process's direct children (cluster workers of a primary), from `ps`. */
export async function childPids(pid: number): Promise<number[]> {
  const { execa } = await import('execa');
  const { stdout } = await execa('ps', ['--ppid', String(pid), '-o', 'pid='], { reject: false });
  return stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Whether a process exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
