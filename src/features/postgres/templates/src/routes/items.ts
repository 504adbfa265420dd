import { asc, eq, gt, sql } from 'drizzle-orm';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { items } from '../db/schema.js';
import { HttpError } from '../errors.js';
import type { AppContext } from '../feature.js';

/**
 * Example resource, yours to change or delete (create wrote it once; add and remove never touch
 * it). Reads go through `database.read` (a replica), writes through `database.write` (the
 * primary); after a write this client reads from the primary for a moment (read-your-writes).
 */

const itemInput = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
});
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The last id of the previous page (keyset pagination: no OFFSET scan). */
  after: z.coerce.number().int().min(0).default(0),
});
const idParam = z.coerce.number().int().min(1).max(2_147_483_647);

/** 400 with the field errors, as { error, fields: { name: ['...'] } }. */
function parse<T>(schema: z.ZodType<T>, value: unknown, res: Response): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = z.flattenError(result.error);
  res
    .status(400)
    .json({ error: 'Invalid request', fields: fields.fieldErrors, other: fields.formErrors });
  return undefined;
}

export function itemRoutes(ctx: AppContext): Router {
  const router = Router();
  const database = (): NonNullable<AppContext['services']['database']> => {
    if (!ctx.services.database) throw new HttpError(503, 'no database configured');
    return ctx.services.database;
  };

  router.get('/api/items', async (req, res) => {
    const query = parse(listQuery, req.query, res);
    if (!query) return;
    const rows = await database().read(res, (db) =>
      db
        .select()
        .from(items)
        .where(gt(items.id, query.after))
        .orderBy(asc(items.id))
        .limit(query.limit),
    );
    const last = rows.at(-1);
    res.json({ items: rows, next: rows.length === query.limit && last ? last.id : null });
  });

  router.get('/api/items/:id', async (req, res) => {
    const id = parse(idParam, req.params.id, res);
    if (id === undefined) return;
    const [item] = await database().read(res, (db) =>
      db.select().from(items).where(eq(items.id, id)),
    );
    if (!item) throw new HttpError(404, `item ${id} not found`);
    res.json(item);
  });

  router.post('/api/items', async (req, res) => {
    const input = parse(itemInput, req.body, res);
    if (!input) return;
    const [item] = await database().write(res, (db) => db.insert(items).values(input).returning());
    if (!item) throw new Error('insert returned no row');
    res.status(201).location(`/api/items/${item.id}`).json(item);
  });

  router.put('/api/items/:id', async (req, res) => {
    const id = parse(idParam, req.params.id, res);
    const input = id === undefined ? undefined : parse(itemInput, req.body, res);
    if (id === undefined || !input) return;
    const [item] = await database().write(res, (db) =>
      db
        .update(items)
        .set({ ...input, updatedAt: sql`now()` })
        .where(eq(items.id, id))
        .returning(),
    );
    if (!item) throw new HttpError(404, `item ${id} not found`);
    res.json(item);
  });

  router.delete('/api/items/:id', async (req, res) => {
    const id = parse(idParam, req.params.id, res);
    if (id === undefined) return;
    const deleted = await database().write(res, (db) =>
      db.delete(items).where(eq(items.id, id)).returning({ id: items.id }),
    );
    if (deleted.length === 0) throw new HttpError(404, `item ${id} not found`);
    res.status(204).end();
  });

  return router;
}
