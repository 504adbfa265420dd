import { Queue } from 'bullmq';
import { withTimeout } from '../../breaker.js';
import { HttpError } from '../../errors.js';
import { serializeError, type Logger } from '../../logger.js';
import { connectionOptions, defaultJobOptions } from './connection.js';
import type { QueueSettings } from './settings.js';
import { traceCarrier } from './trace.js';
import type { EnqueueOptions, JobQueue, JobState, JobStatus } from './types.js';

/** 503 with Retry-After: the client may try again shortly; the error handler logs the cause. */
function unavailable(cause: unknown): HttpError {
  const error = new HttpError(503, 'the job queue is unavailable');
  Object.assign(error, { headers: { 'Retry-After': '5' }, cause });
  return error;
}

/**
 * The producer side of BullMQ, used by the web process. It never waits for Redis: with the offline
 * queue off a command fails at once while disconnected, `commandTimeout` ends a command a hung
 * Redis never answers, and QUEUE_ENQUEUE_TIMEOUT_MS bounds the whole call (also the wait for the
 * first connection), so a request gets a 503 instead of hanging.
 */
export class RedisJobQueue implements JobQueue {
  readonly queue: Queue;
  private readonly timeoutMs: number;
  /** False from a connection error until a command succeeds again. */
  private healthy = true;

  constructor(settings: QueueSettings & { redisUrl: string }, logger: Logger) {
    this.timeoutMs = settings.enqueueTimeoutMs;
    this.queue = new Queue(settings.name, {
      connection: {
        ...connectionOptions(settings),
        enableOfflineQueue: false,
        commandTimeout: settings.enqueueTimeoutMs,
        maxRetriesPerRequest: 1,
      },
      defaultJobOptions: defaultJobOptions(settings),
    });
    // Mandatory (an unhandled 'error' event ends the process); one warning per outage.
    this.queue.on('error', (error: unknown) => {
      if (this.healthy) logger.warn('queue: redis unavailable', { error: serializeError(error) });
      this.healthy = false;
    });
  }

  private async bounded<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await withTimeout(work(), this.timeoutMs);
      this.healthy = true;
      return result;
    } catch (error) {
      // Disconnected, timed out (TimeoutError), or an error from Redis: all mean "not now".
      throw unavailable(error);
    }
  }

  async enqueue(name: string, data: unknown, options: EnqueueOptions = {}): Promise<string> {
    // An existing job id returns the existing job: BullMQ de-duplicates.
    const metadata = traceCarrier();
    const job = await this.bounded(() =>
      this.queue.add(name, data, {
        jobId: options.jobId,
        ...(metadata ? { telemetry: { metadata } } : {}),
      }),
    );
    return String(job.id);
  }

  async status(id: string): Promise<JobStatus | undefined> {
    return this.bounded(async () => {
      // The state first, then the job: completing sets both at once, so a job that completes
      // between the two reads comes with its result (read the other way round, "completed" could
      // come with the still-active job's empty result).
      const found = await this.queue.getJobState(id);
      if (found === 'unknown') return undefined;
      const state = found as JobState;
      const job = await this.queue.getJob(id);
      if (!job) return undefined;
      return {
        id,
        name: job.name,
        state,
        ...(state === 'completed' ? { result: job.returnvalue as unknown } : {}),
        ...(job.failedReason ? { error: job.failedReason } : {}),
        attemptsMade: job.attemptsMade,
      };
    });
  }

  /** Waiting, active, completed, failed and delayed jobs (the whole queue, every process). */
  counts(): Promise<Record<string, number>> {
    return this.bounded(() =>
      this.queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'),
    );
  }

  async ping(): Promise<boolean> {
    try {
      await this.counts();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await withTimeout(this.queue.close(), 2000).catch(() => this.queue.disconnect());
  }
}
