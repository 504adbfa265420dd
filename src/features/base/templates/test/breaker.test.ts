import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, TimeoutError, withTimeout, type BreakerState } from '../src/breaker.js';

/** A call that never answers: a hung dependency. */
const hang = (): Promise<string> => new Promise<string>(() => undefined);
const fail = (): Promise<string> => Promise.reject(new Error('refused'));
const ok = (): Promise<string> => Promise.resolve('answer');

interface Probe {
  calls: number;
  inFlight: number;
  maxInFlight: number;
  /** Makes the pending probes (and the next ones) answer. */
  heal(): void;
}

/** A probe that hangs until healed, counting how many run at once. */
function fakeProbe(): { probe: () => Promise<unknown>; stats: Probe } {
  let healed = false;
  const waiting: (() => void)[] = [];
  const stats: Probe = {
    calls: 0,
    inFlight: 0,
    maxInFlight: 0,
    heal() {
      healed = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
  const probe = async (): Promise<void> => {
    stats.calls += 1;
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      if (!healed) await new Promise<void>((resolve) => waiting.push(resolve));
    } finally {
      stats.inFlight -= 1;
    }
  };
  return { probe, stats };
}

function breaker(probe: () => Promise<unknown> = ok) {
  const changes: BreakerState[] = [];
  const b = new CircuitBreaker({
    failureThreshold: 3,
    timeoutMs: 100,
    probeIntervalMs: 500,
    probe,
    onStateChange: (state) => changes.push(state),
  });
  return { b, changes };
}

const miss = (): string => 'fallback';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('circuit breaker', () => {
  it('passes answers through while closed and falls back on a single failure', async () => {
    const { b, changes } = breaker();
    expect(await b.run(ok, miss)).toBe('answer');
    expect(await b.run(fail, miss)).toBe('fallback');
    expect(b.state).toBe('closed');
    expect(changes).toEqual([]);
  });

  it('bounds a hung call by the timeout', async () => {
    const { b } = breaker();
    const result = b.run(hang, (error) => (error instanceof TimeoutError ? 'timed out' : 'other'));
    await vi.advanceTimersByTimeAsync(100);
    expect(await result).toBe('timed out');
  });

  it('opens after consecutive timeouts, then skips calls without waiting', async () => {
    const { b, changes } = breaker();
    const hung = [b.run(hang, miss), b.run(hang, miss), b.run(hang, miss)];
    await vi.advanceTimersByTimeAsync(100);
    expect(await Promise.all(hung)).toEqual(['fallback', 'fallback', 'fallback']);
    expect(b.state).toBe('open');
    expect(changes).toEqual(['open']);

    // Open: the call is not even made, and the answer comes without any timer firing.
    const call = vi.fn(hang);
    expect(await b.run(call, miss)).toBe('fallback');
    expect(call).not.toHaveBeenCalled();
  });

  it('needs the failures to be consecutive: an answer in between resets the count', async () => {
    const { b } = breaker();
    await b.run(fail, miss);
    await b.run(fail, miss);
    await b.run(ok, miss);
    await b.run(fail, miss);
    await b.run(fail, miss);
    expect(b.state).toBe('closed');
    await b.run(fail, miss);
    expect(b.state).toBe('open');
  });

  it('keeps one probe waiting on a hung dependency and closes the moment it answers', async () => {
    const { probe, stats } = fakeProbe();
    const { b, changes } = breaker(probe);
    for (let i = 0; i < 3; i++) await b.run(fail, miss);
    expect(b.state).toBe('open');

    // Ten seconds of a hung dependency: one probe, still waiting; no pile of them.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stats.calls).toBe(1);
    expect(stats.maxInFlight).toBe(1);
    expect(b.state).toBe('open');

    stats.heal();
    await vi.advanceTimersByTimeAsync(0);
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['open', 'closed']);
    expect(await b.run(ok, miss)).toBe('answer');
  });

  it('retries a failed probe after the interval, one at a time', async () => {
    let probes = 0;
    let answers = false;
    const { b } = breaker(async () => {
      probes += 1;
      if (!answers) throw new Error('refused');
    });
    for (let i = 0; i < 3; i++) await b.run(fail, miss);
    await vi.advanceTimersByTimeAsync(500);
    expect(probes).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(probes).toBe(5);
    expect(b.state).toBe('open');
    answers = true;
    await vi.advanceTimersByTimeAsync(500);
    expect(b.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(probes).toBe(6);
  });

  it('stops probing once stopped', async () => {
    const { probe, stats } = fakeProbe();
    const { b } = breaker(probe);
    for (let i = 0; i < 3; i++) await b.run(fail, miss);
    b.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(stats.calls).toBe(0);
  });
});

describe('withTimeout', () => {
  it('passes a prompt answer through and rejects a late one', async () => {
    expect(await withTimeout(ok(), 50)).toBe('answer');
    const late = withTimeout(hang(), 50);
    const checked = expect(late).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(50);
    await checked;
  });
});
