/**
 * The one map of dependency versions that generated projects get. Keep every entry on its
 * current major (check with `npm view NAME version`); features name packages, never versions.
 */
export const versions = {
  // runtime
  express: '^5.3.0',
  helmet: '^8.3.0',
  redis: '^6.3.1',
  'lru-cache': '^11.5.3',
  'express-rate-limit': '^8.7.5',
  'rate-limit-redis': '^6.0.1',
  winston: '^3.19.0',
  pino: '^10.4.0',
  'pino-http': '^11.0.0',
  newrelic: '^14.5.1',
  '@opentelemetry/api': '^1.10.0',
  '@opentelemetry/sdk-node': '^0.301.0',
  '@opentelemetry/instrumentation-http': '^0.301.0',
  '@opentelemetry/instrumentation-pg': '^0.77.0',
  '@opentelemetry/instrumentation-redis': '^0.72.0',
  '@opentelemetry/instrumentation-undici': '^0.34.0',
  'import-in-the-middle': '^3.6.0',
  morgan: '^1.12.1',
  'prom-client': '^15.1.3',
  pm2: '^7.0.4',
  pg: '^8.23.1',
  'drizzle-orm': '^0.45.4',
  '@electric-sql/pglite': '^0.5.17',
  zod: '^4.6.7',
  bullmq: '^6.7.0',
  ioredis: '^6.0.0',
  // development
  typescript: '~6.0.3',
  '@types/node': '^24.19.4',
  '@types/express': '^5.0.6',
  tsx: '^4.23.15',
  vitest: '^5.1.2',
  // vitest's peer; 8.4.0 lists an optional dependency the registry may not serve, and npm ci then
  // refuses the lockfile npm install just wrote (npm/cli#9846). Exact until that is fixed.
  vite: '8.3.8',
  supertest: '^7.3.2',
  '@types/supertest': '^7.2.1',
  eslint: '^10.15.0',
  '@eslint/js': '^10.0.1',
  'typescript-eslint': '^8.74.0',
  globals: '^17.14.0',
  prettier: '^3.10.1',
  // 0.x: a minor may break (drizzle-kit follows drizzle-orm's releases).
  'drizzle-kit': '^0.31.11',
  '@types/pg': '^8.23.1',
  '@types/morgan': '^1.9.10',
} as const;

export type PackageName = keyof typeof versions;

/** The Node.js major that generated projects target (Docker image, CI, engines floor below). */
export const nodeMajor = 24;
export const nodeEngines = '>=22';
