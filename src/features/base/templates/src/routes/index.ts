import { Router } from 'express';
import type { AppContext } from '../feature.js';
import { HttpError } from '../errors.js';

/**
 * Your routes. The generator writes this file once and never changes it again: features plug in
 * through src/features/index.ts instead.
 */
export function routes(_ctx: AppContext): Router {
  const router = Router();

  router.get('/api/hello', (req, res) => {
    const name = typeof req.query.name === 'string' ? req.query.name : 'world';
    res.json({ message: `Hello, ${name}!` });
  });

  router.post('/api/echo', (req, res) => {
    if (req.body === undefined) throw new HttpError(400, 'Send a JSON body');
    res.json({ received: req.body as unknown });
  });

  return router;
}
