/**
 * What routes and jobs see of the queue, the same with BullMQ (REDIS_URL) and in process.
 */

/** A job's state as BullMQ names it ('unknown': no such job, or removed). */
export type JobState =
  | 'waiting'
  | 'delayed'
  | 'prioritized'
  | 'waiting-children'
  | 'active'
  | 'completed'
  | 'failed'
  | 'unknown';

export interface JobStatus {
  id: string;
  name: string;
  state: JobState;
  /** The handler's return value, once completed. */
  result?: unknown;
  /** The last error message, once failed. */
  error?: string;
  attemptsMade: number;
}

export interface EnqueueOptions {
  /** Jobs with the same id are one job: enqueueing it again while it is kept changes nothing. */
  jobId?: string;
}

export interface JobQueue {
  /** Adds a job and resolves to its id; rejects fast (503) when the queue is unreachable. */
  enqueue(name: string, data: unknown, options?: EnqueueOptions): Promise<string>;
  /** The job's state and result; undefined when there is no such job. */
  status(id: string): Promise<JobStatus | undefined>;
}

/** What a handler learns about the job it runs. */
export interface JobInfo {
  id: string;
  name: string;
  /** Tries made before this one. */
  attemptsMade: number;
}

/** Runs one job; its return value (JSON) is the job's result. Throw to fail (and retry). */
export type JobHandler = (data: unknown, job: JobInfo) => Promise<unknown>;
