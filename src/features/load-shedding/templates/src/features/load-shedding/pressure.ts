/** One reading of the process's load (see sampler.ts). */
export interface Sample {
  /** The longest event-loop delay since the previous sample, in milliseconds. */
  eventLoopDelayMs: number;
  /** The share of the time since the previous sample the event loop was busy, 0 to 1. */
  eventLoopUtilization: number;
  heapUsedBytes: number;
  /** Heap used as a share of V8's heap limit, 0 to 1. */
  heapUsedRatio: number;
}

/** The limits of an overloaded process; 0 turns a check off. */
export interface Limits {
  maxEventLoopDelayMs: number;
  maxEventLoopUtilization: number;
  maxHeapUsedRatio: number;
}

export type Check = 'eventLoopDelay' | 'eventLoopUtilization' | 'heapUsed';

/** The checks a sample fails. */
export function exceeded(sample: Sample, limits: Limits): Check[] {
  const over: Check[] = [];
  if (limits.maxEventLoopDelayMs > 0 && sample.eventLoopDelayMs > limits.maxEventLoopDelayMs) {
    over.push('eventLoopDelay');
  }
  if (
    limits.maxEventLoopUtilization > 0 &&
    sample.eventLoopUtilization > limits.maxEventLoopUtilization
  ) {
    over.push('eventLoopUtilization');
  }
  if (limits.maxHeapUsedRatio > 0 && sample.heapUsedRatio > limits.maxHeapUsedRatio) {
    over.push('heapUsed');
  }
  return over;
}

export interface Episode {
  durationMs: number;
  /** Requests refused during the episode. */
  shed: number;
}

/** Called once when an episode starts and once when it ends (for the log and the metrics). */
export interface PressureEvents {
  overloaded(sample: Sample, over: Check[]): void;
  recovered(sample: Sample, episode: Episode): void;
}

/**
 * The shedding state: overloaded from the first sample over a limit to the first sample under all
 * of them. `now` is injectable so that tests never depend on the wall clock.
 */
export class Pressure {
  /** Read on every request: the only cost of the feature while it is not shedding. */
  overloaded = false;
  private since = 0;
  private shedCount = 0;

  constructor(
    private readonly limits: Limits,
    private readonly events: PressureEvents,
    private readonly now: () => number = Date.now,
  ) {}

  update(sample: Sample): void {
    const over = exceeded(sample, this.limits);
    if (over.length > 0 && !this.overloaded) {
      this.overloaded = true;
      this.since = this.now();
      this.shedCount = 0;
      this.events.overloaded(sample, over);
    } else if (over.length === 0 && this.overloaded) {
      this.overloaded = false;
      this.events.recovered(sample, { durationMs: this.now() - this.since, shed: this.shedCount });
    }
  }

  /** Counts a refused request (reported when the episode ends). */
  shed(): void {
    this.shedCount++;
  }
}
