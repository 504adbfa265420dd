import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Sample } from './pressure.js';

/** How often the delay histogram samples the loop; the delay it reports includes this much. */
const RESOLUTION_MS = 10;

/**
 * Samples the load every `intervalMs` and hands each sample to `onSample`; returns a stop function.
 * Event-loop delay: the longest delay the histogram saw since the previous sample (reset each
 * time), or this timer's own lateness when that is longer. After a long task in a request handler
 * (the poll phase) the loop runs its timers before it polls again, so this timer sees the delay
 * before the requests that queued meanwhile are read: those are already shed.
 * Utilization: the busy share since the previous sample. Heap: used over V8's limit.
 * The first tick is not a sample: it measures the rest of start-up (the other features' setup,
 * loading modules), which would open an episode, and turn /readyz down, on every boot.
 * The timer is unref'd: it never keeps the process alive.
 */
export function startSampling(intervalMs: number, onSample: (sample: Sample) => void): () => void {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let previousElu = performance.eventLoopUtilization();
  let due = performance.now() + intervalMs;
  let warmingUp = true;
  const timer = setInterval(() => {
    const now = performance.now();
    const lateness = Math.max(0, now - due);
    due = now + intervalMs;
    if (warmingUp) {
      warmingUp = false;
      histogram.reset();
      previousElu = performance.eventLoopUtilization();
      return;
    }
    const measured = histogram.count > 0 ? histogram.max / 1e6 - RESOLUTION_MS : 0;
    histogram.reset();
    const elu = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(elu, previousElu).utilization;
    previousElu = elu;
    const heap = getHeapStatistics();
    onSample({
      eventLoopDelayMs: Math.max(0, measured, lateness),
      eventLoopUtilization: busy,
      heapUsedBytes: heap.used_heap_size,
      heapUsedRatio: heap.used_heap_size / heap.heap_size_limit,
    });
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    histogram.disable();
  };
}
