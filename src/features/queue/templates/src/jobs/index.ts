import { report } from './report.js';

/**
 * The job handlers, by job name: `enqueue('report', data)` runs `report(data, job)` in a worker
 * process (or in the app without REDIS_URL). Yours to extend: add a handler here and enqueue its
 * name. A handler gets JSON data, returns the job's JSON result, and throws to fail (it is retried
 * QUEUE_ATTEMPTS times with exponential backoff). Make it safe to run twice: a worker that dies
 * mid-job means another worker runs the job again.
 *
 * Generated with the queue feature (the worker and the app import it, so `add queue` writes it);
 * it is still yours: the CLI never overwrites an edited file without telling you (a conflict).
 */
export const jobs = { report };
