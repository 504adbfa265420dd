import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { HttpError } from '../errors.js';
import type { AppContext } from '../feature.js';

/**
 * Example resource, yours to change or delete (create wrote it once; add and remove never touch
 * it). POST /api/reports queues the work and answers 202 at once; a worker runs it
 * (src/jobs/report.ts); GET /api/reports/:id tells its state and, once completed, its result.
 * Send `Idempotency-Key: <key>` to make a retried POST the same job instead of a second one.
 */

/** What these routes need of ctx.services.queue (src/features/queue.ts), read loosely so that
 * removing the queue feature keeps this file compiling: the routes then answer 503. */
interface ReportQueue {
  enqueue(name: string, data: unknown, options?: { jobId?: string }): Promise<string>;
  status(
    id: string,
  ): Promise<{ name: string; state: string; result?: unknown; error?: string } | undefined>;
}

const ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * The body, or a message for a 400. The job (src/jobs/report.ts) checks its input again; this
 * file imports nothing of the queue feature, so that removing the feature leaves it compiling.
 */
function parseReport(body: unknown): { text: string; rounds: number } | string {
  if (typeof body !== 'object' || body === null) return 'send a JSON object';
  const { text, rounds } = body as Record<string, unknown>;
  if (typeof text !== 'string' || text.length === 0 || text.length > 10_000) {
    return 'text must be a string of 1 to 10000 characters';
  }
  if (typeof rounds !== 'number' || !Number.isInteger(rounds) || rounds < 1 || rounds > 5_000_000) {
    return 'rounds must be a whole number from 1 to 5000000';
  }
  return { text, rounds };
}

export function reportRoutes(ctx: AppContext): Router {
  const router = Router();
  const queue = (): ReportQueue => {
    const found = (ctx.services as { queue?: ReportQueue }).queue;
    if (!found) throw new HttpError(503, 'no job queue configured');
    return found;
  };

  router.post('/api/reports', async (req, res) => {
    const input = parseReport(req.body);
    if (typeof input === 'string') throw new HttpError(400, input);
    const key = req.get('Idempotency-Key');
    if (key !== undefined && !ID.test(key)) {
      throw new HttpError(400, 'Idempotency-Key must be 1 to 100 letters, digits, "_" or "-"');
    }
    // A job id that is never a bare number (BullMQ's own ids are) and never has a ":".
    const id = await queue().enqueue('report', input, { jobId: `report-${key ?? randomUUID()}` });
    res.status(202).location(`/api/reports/${id}`).json({ id });
  });

  router.get('/api/reports/:id', async (req, res) => {
    const id = req.params.id;
    const job = ID.test(id) ? await queue().status(id) : undefined;
    if (!job || job.name !== 'report') throw new HttpError(404, `report ${id} not found`);
    res.json({ id, state: job.state, result: job.result, error: job.error });
  });

  return router;
}
