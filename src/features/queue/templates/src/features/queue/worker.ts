import { Worker, type Job } from 'bullmq';
import type { Logger } from '../../logger.js';
import { serializeError } from '../../logger.js';
import { connectionOptions } from './connection.js';
import type { JobObserver } from './in-process.js';
import type { QueueSettings } from './settings.js';
import { traced } from './trace.js';
import type { JobHandler } from './types.js';

export interface RunningWorker {
  worker: Worker;
  /**
   * Stops taking jobs and waits for the active ones, at most QUEUE_SHUTDOWN_TIMEOUT_MS; then
   * closes anyway. A job cut short keeps its lock until it expires and another worker takes it
   * over as stalled, so nothing is lost.
   */
  stop(): Promise<'drained' | 'deadline'>;
}

/**
 * A BullMQ worker running `handlers` (by job name). Locks are renewed every half
 * QUEUE_LOCK_DURATION_MS, and every worker looks for stalled jobs (a lock that expired: its worker
 * died or its event loop was blocked too long) at that interval and puts them back in the queue.
 * A handler that computes for long must yield now and then (see src/jobs/report.ts).
 */
export function startWorker(
  settings: QueueSettings & { redisUrl: string },
  handlers: Readonly<Record<string, JobHandler>>,
  logger: Logger,
  observe: JobObserver = () => undefined,
): RunningWorker {
  const processor = async (job: Job): Promise<unknown> => {
    const handler = handlers[job.name];
    if (!handler) throw new Error(`no handler for job "${job.name}" (see src/jobs/index.ts)`);
    logger.debug('job started', { id: job.id, name: job.name, attempt: job.attemptsMade + 1 });
    const info = { id: String(job.id), name: job.name, attemptsMade: job.attemptsMade };
    return traced(settings.name, info, job.opts.telemetry?.metadata, () =>
      handler(job.data as unknown, info),
    );
  };
  const worker = new Worker(settings.name, processor, {
    connection: connectionOptions(settings),
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.lockDurationMs,
    // A job that stalls twice is failed (kept for inspection) rather than retried forever.
    maxStalledCount: 1,
  });

  const seconds = (job: Job): number =>
    job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0;
  worker.on('completed', (job) => {
    logger.debug('job completed', { id: job.id, name: job.name, pid: process.pid });
    observe(job.name, seconds(job), true);
  });
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    logger.warn(final ? 'job failed' : 'job failed, will retry', {
      id: job.id,
      name: job.name,
      attempt: job.attemptsMade,
      error: serializeError(error),
    });
    observe(job.name, seconds(job), false);
  });
  worker.on('stalled', (id) => logger.warn('stalled job put back in the queue', { id }));
  // Mandatory (an unhandled 'error' event ends the process); one warning per outage.
  let healthy = true;
  worker.on('error', (error) => {
    if (healthy)
      logger.warn('worker: redis unavailable, retrying', { error: serializeError(error) });
    healthy = false;
  });
  worker.on('ready', () => {
    if (!healthy) logger.info('worker: redis connected again');
    healthy = true;
  });

  return {
    worker,
    async stop() {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(resolve, settings.shutdownTimeoutMs, 'deadline');
      });
      const drained = worker.close().then(() => 'drained' as const);
      const outcome = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (outcome === 'deadline') await worker.close(true).catch(() => undefined);
      return outcome;
    },
  };
}
