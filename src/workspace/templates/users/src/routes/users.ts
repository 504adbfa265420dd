import { Router } from 'express';
import { HttpError } from '../errors.js';
import type { AppContext } from '../feature.js';

export interface User {
  id: string;
  name: string;
}

/**
 * The users service's example API, yours to change. Users live in memory (each instance has its
 * own, seeded with user 1): a real service keeps them in a database.
 */
export function userRoutes(_ctx: AppContext): Router {
  const users = new Map<string, User>([['1', { id: '1', name: 'Ada' }]]);
  const router = Router();

  router.get('/api/users/:id', (req, res) => {
    const user = users.get(req.params.id);
    if (!user) throw new HttpError(404, 'No such user');
    res.json(user);
  });

  router.post('/api/users', (req, res) => {
    const name = (req.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || !name.trim() || name.length > 100) {
      throw new HttpError(400, 'Send {"name": "…"} (1 to 100 characters)');
    }
    const user = { id: String(users.size + 1), name: name.trim() };
    users.set(user.id, user);
    res.status(201).json(user);
  });

  return router;
}
