import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Your tables. After a change: `npm run db:generate` writes the SQL migration to drizzle/,
 * `npm run db:migrate` applies it to DATABASE_URL (the embedded PGlite applies it at start).
 */
export const items = pgTable('items', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type Item = typeof items.$inferSelect;
