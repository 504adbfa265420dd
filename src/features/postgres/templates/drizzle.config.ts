import { defineConfig } from 'drizzle-kit';

// drizzle-kit (npm run db:generate): compares src/db/schema.ts with the migrations in drizzle/.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
