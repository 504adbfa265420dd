import type { Logger } from '../../logger.js';
import { serializeError } from '../../logger.js';
import type { QueueSettings } from './settings.js';
import { traceCarrier, traced } from './trace.js';
import type { EnqueueOptions, JobHandler, JobQueue, JobState, JobStatus } from './types.js';

interface LocalJob {
  id: string;
  name: string;
  data: unknown;
  state: JobState;
  result?: unknown;
  error?: string;
  attemptsMade: number;
  /** The enqueueing request's trace context (see trace.ts). */
  trace?: string;
}

/** Called when a job finishes (metrics). */
export type JobObserver = (name: string, seconds: number, ok: boolean) => void;

/**
 * The queue without Redis (development and tests): the same API, jobs run in this process with
 * QUEUE_CONCURRENCY, the same retries and backoff, de-duplication by id, and the last
 * QUEUE_KEEP_COMPLETED / QUEUE_KEEP_FAILED finished jobs kept. Nothing survives a restart.
 */
export class InProcessJobQueue implements JobQueue {
  private readonly jobs = new Map<string, LocalJob>();
  private readonly waiting: LocalJob[] = [];
  private readonly finished: { completed: string[]; failed: string[] } = {
    completed: [],
    failed: [],
  };
  private active = 0;
  private nextId = 1;
  private retries = new Set<NodeJS.Timeout>();
  private idle: (() => void)[] = [];

  constructor(
    private readonly settings: QueueSettings,
    private readonly handlers: Readonly<Record<string, JobHandler>>,
    private readonly logger: Logger,
    private readonly observe: JobObserver = () => undefined,
  ) {}

  enqueue(name: string, data: unknown, options: EnqueueOptions = {}): Promise<string> {
    const id = options.jobId ?? String(this.nextId++);
    if (!this.jobs.has(id)) {
      const job: LocalJob = {
        id,
        name,
        data,
        state: 'waiting',
        attemptsMade: 0,
        trace: traceCarrier(),
      };
      this.jobs.set(id, job);
      this.waiting.push(job);
      setImmediate(() => this.pump());
    }
    return Promise.resolve(id);
  }

  status(id: string): Promise<JobStatus | undefined> {
    const job = this.jobs.get(id);
    if (!job) return Promise.resolve(undefined);
    const { id: jobId, name, state, result, error, attemptsMade } = job;
    return Promise.resolve({ id: jobId, name, state, result, error, attemptsMade });
  }

  counts(): Record<string, number> {
    return {
      waiting: this.waiting.length,
      active: this.active,
      completed: this.finished.completed.length,
      failed: this.finished.failed.length,
      delayed: this.retries.size,
    };
  }

  /** Resolves when no job is running or waiting, or after `ms`. */
  async drain(ms: number): Promise<void> {
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    this.waiting.length = 0;
    if (this.active === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private pump(): void {
    while (this.active < this.settings.concurrency) {
      const job = this.waiting.shift();
      if (!job) return;
      this.active++;
      void this.run(job).finally(() => {
        this.active--;
        if (this.active === 0 && this.waiting.length === 0) this.idle.splice(0).forEach((f) => f());
        this.pump();
      });
    }
  }

  private async run(job: LocalJob): Promise<void> {
    job.state = 'active';
    const started = performance.now();
    try {
      const handler = this.handlers[job.name];
      if (!handler) throw new Error(`no handler for job "${job.name}" (see src/jobs/index.ts)`);
      const info = { id: job.id, name: job.name, attemptsMade: job.attemptsMade };
      job.result = await traced(this.settings.name, info, job.trace, () => handler(job.data, info));
      job.attemptsMade++;
      this.finish(job, 'completed');
      this.observe(job.name, (performance.now() - started) / 1000, true);
    } catch (error) {
      job.attemptsMade++;
      job.error = error instanceof Error ? error.message : String(error);
      this.observe(job.name, (performance.now() - started) / 1000, false);
      if (job.attemptsMade < this.settings.attempts) {
        job.state = 'delayed';
        const delay = this.settings.backoffMs * 2 ** (job.attemptsMade - 1);
        const timer = setTimeout(() => {
          this.retries.delete(timer);
          job.state = 'waiting';
          this.waiting.push(job);
          this.pump();
        }, delay);
        this.retries.add(timer);
      } else {
        this.logger.warn('job failed', {
          id: job.id,
          name: job.name,
          error: serializeError(error),
        });
        this.finish(job, 'failed');
      }
    }
  }

  /** Keeps the last N finished jobs of each kind, as BullMQ's removeOnComplete/removeOnFail. */
  private finish(job: LocalJob, state: 'completed' | 'failed'): void {
    job.state = state;
    const list = this.finished[state];
    list.push(job.id);
    const keep = state === 'completed' ? this.settings.keepCompleted : this.settings.keepFailed;
    while (list.length > keep) this.jobs.delete(list.shift() ?? '');
  }
}
