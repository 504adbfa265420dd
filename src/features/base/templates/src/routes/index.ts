import { Router } from 'express';
import type { AppContext } from '../feature.js';
import { examples } from './examples.js';

/**
 * Your routes. The generator writes this file once and never changes it again: features plug in
 * through src/features/index.ts instead.
 */
export function routes(ctx: AppContext): Router {
  const router = Router();

  // The generated examples: delete this line and src/routes/examples.ts when you are done with them.
  router.use(examples(ctx));

  return router;
}
