import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes a test starts in production mode (PM2's --check-config) get the embedded
    // database too (the postgres feature requires DATABASE_URL in production; unused otherwise),
    // and jobs in process (the queue feature requires REDIS_URL in production otherwise).
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      DATABASE_URL: 'pglite:memory',
      QUEUE_IN_PROCESS: 'true',
    },
  },
});
