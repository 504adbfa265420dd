import { describe, expect, it } from 'vitest';
import {
  exceeded,
  Pressure,
  type Episode,
  type Limits,
  type Sample,
} from '../src/features/load-shedding/pressure.js';

const limits: Limits = {
  maxEventLoopDelayMs: 100,
  maxEventLoopUtilization: 0.9,
  maxHeapUsedRatio: 0.8,
};
const calm: Sample = {
  eventLoopDelayMs: 5,
  eventLoopUtilization: 0.2,
  heapUsedBytes: 1_000,
  heapUsedRatio: 0.1,
};

/** A Pressure on an injected clock, recording the episode events it reports. */
function watched(on: Limits = limits) {
  let clock = 1_000;
  const started: string[][] = [];
  const ended: Episode[] = [];
  const pressure = new Pressure(
    on,
    {
      overloaded: (_sample, over) => started.push(over),
      recovered: (_sample, episode) => ended.push(episode),
    },
    () => clock,
  );
  const advance = (ms: number) => (clock += ms);
  return { pressure, started, ended, advance };
}

describe('load-shedding state', () => {
  it('names every check a sample fails, and none when all pass', () => {
    expect(exceeded(calm, limits)).toEqual([]);
    expect(exceeded({ ...calm, eventLoopDelayMs: 101 }, limits)).toEqual(['eventLoopDelay']);
    expect(
      exceeded(
        { eventLoopDelayMs: 500, eventLoopUtilization: 1, heapUsedBytes: 9, heapUsedRatio: 0.95 },
        limits,
      ),
    ).toEqual(['eventLoopDelay', 'eventLoopUtilization', 'heapUsed']);
    // At the limit is not over it.
    expect(exceeded({ ...calm, eventLoopDelayMs: 100 }, limits)).toEqual([]);
  });

  it('a limit of 0 turns its check off', () => {
    const off: Limits = { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0, maxHeapUsedRatio: 0 };
    expect(
      exceeded(
        { eventLoopDelayMs: 1e6, eventLoopUtilization: 1, heapUsedBytes: 9, heapUsedRatio: 1 },
        off,
      ),
    ).toEqual([]);
  });

  it('reports one start and one end per episode, with its duration and shed count', () => {
    const { pressure, started, ended, advance } = watched();
    pressure.update(calm);
    expect(pressure.overloaded).toBe(false);

    pressure.update({ ...calm, eventLoopDelayMs: 300 });
    expect(pressure.overloaded).toBe(true);
    pressure.shed();
    advance(250);
    // Still over (another check this time): the same episode, no second start.
    pressure.update({ ...calm, heapUsedRatio: 0.85 });
    pressure.shed();
    pressure.shed();
    expect(started).toEqual([['eventLoopDelay']]);
    expect(ended).toEqual([]);

    advance(150);
    pressure.update(calm);
    expect(pressure.overloaded).toBe(false);
    expect(ended).toEqual([{ durationMs: 400, shed: 3 }]);
    pressure.update(calm);
    expect(ended).toHaveLength(1);
  });

  it('counts each episode on its own', () => {
    const { pressure, started, ended, advance } = watched();
    pressure.update({ ...calm, eventLoopUtilization: 0.95 });
    pressure.shed();
    advance(100);
    pressure.update(calm);
    pressure.update({ ...calm, eventLoopDelayMs: 1_000 });
    advance(30);
    pressure.update(calm);
    expect(started).toEqual([['eventLoopUtilization'], ['eventLoopDelay']]);
    expect(ended).toEqual([
      { durationMs: 100, shed: 1 },
      { durationMs: 30, shed: 0 },
    ]);
  });
});
