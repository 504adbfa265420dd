/**
 * Every real feature rendered in memory, no install: the files it adds to the base project, the
 * packages it adds to package.json and the variables it documents in .env.example. The lists
 * are written out by hand (not computed by the generator), so a template or feature mistake
 * fails here in seconds instead of after an install. When you change a feature on purpose,
 * change its line here.
 */
import { describe, expect, it } from 'vitest';
import { selectableFeatures } from '../../src/features/index.js';
import { resolveFeatures } from '../../src/features/resolve.js';
import { renderProject, type FileTree } from '../../src/render/render.js';

interface Expected {
  files: string[];
  dependencies: string[];
  /** Development packages the feature adds (none unless listed). */
  devDependencies?: string[];
  env: string[];
}

const expected: Record<string, Expected> = {
  cluster: {
    files: ['src/features/cluster.ts', 'test/cluster.test.ts'],
    dependencies: [],
    env: ['WEB_CONCURRENCY', 'CLUSTER_MAX_CRASHES', 'CLUSTER_CRASH_WINDOW_MS'],
  },
  pm2: {
    files: ['ecosystem.config.cjs', 'test/pm2.test.ts'],
    dependencies: ['pm2'],
    env: ['WEB_CONCURRENCY', 'MAX_MEMORY_RESTART'],
  },
  redis: {
    files: [
      'src/features/redis.ts',
      'src/features/redis/backends.ts',
      'src/features/redis/cache.ts',
      'src/features/redis/client.ts',
      'src/features/redis/response-cache.ts',
      'test/fake-redis.ts',
      'test/redis.test.ts',
    ],
    dependencies: ['lru-cache', 'redis'],
    env: [
      'REDIS_URL',
      'REDIS_CLUSTER_NODES',
      'REDIS_SENTINELS',
      'REDIS_SENTINEL_MASTER',
      'REDIS_PASSWORD',
      'REDIS_KEY_PREFIX',
      'REDIS_COMMAND_TIMEOUT_MS',
      'CACHE_TTL_SECONDS',
      'CACHE_MAX_ENTRIES',
    ],
  },
  postgres: {
    files: [
      'drizzle.config.ts',
      'drizzle/0000_items.sql',
      'drizzle/meta/0000_snapshot.json',
      'drizzle/meta/_journal.json',
      'src/db/schema.ts',
      'src/features/postgres.ts',
      'src/features/postgres/connect.ts',
      'src/features/postgres/database.ts',
      'src/features/postgres/migrate.ts',
      'src/features/postgres/replicas.ts',
      'src/features/postgres/server.ts',
      'src/features/postgres/settings.ts',
      'src/routes/items.ts',
      'test/items.test.ts',
      'test/postgres.test.ts',
    ],
    dependencies: ['@electric-sql/pglite', 'drizzle-orm', 'pg', 'zod'],
    devDependencies: ['@types/pg', 'drizzle-kit'],
    env: [
      'DATABASE_URL',
      'DATABASE_REPLICA_URLS',
      'DATABASE_POOL_MAX',
      'DATABASE_STATEMENT_TIMEOUT_MS',
      'DATABASE_MAX_REPLICA_LAG_MS',
    ],
  },
  // queue requires redis: its files and packages come too.
  queue: {
    files: [
      'src/features/redis.ts',
      'src/features/redis/backends.ts',
      'src/features/redis/cache.ts',
      'src/features/redis/client.ts',
      'src/features/redis/response-cache.ts',
      'test/fake-redis.ts',
      'test/redis.test.ts',
      'src/features/queue.ts',
      'src/features/queue/connection.ts',
      'src/features/queue/in-process.ts',
      'src/features/queue/redis-queue.ts',
      'src/features/queue/settings.ts',
      'src/features/queue/trace.ts',
      'src/features/queue/types.ts',
      'src/features/queue/worker.ts',
      'src/worker.ts',
      'src/jobs/index.ts',
      'src/jobs/report.ts',
      'src/routes/reports.ts',
      'test/queue.test.ts',
      'test/reports.test.ts',
    ],
    dependencies: ['lru-cache', 'redis', 'bullmq', 'ioredis'],
    env: [
      'REDIS_URL',
      'REDIS_CLUSTER_NODES',
      'REDIS_SENTINELS',
      'REDIS_SENTINEL_MASTER',
      'REDIS_PASSWORD',
      'REDIS_KEY_PREFIX',
      'REDIS_COMMAND_TIMEOUT_MS',
      'CACHE_TTL_SECONDS',
      'CACHE_MAX_ENTRIES',
      'QUEUE_IN_PROCESS',
      'QUEUE_NAME',
      'QUEUE_CONCURRENCY',
      'QUEUE_ATTEMPTS',
      'QUEUE_BACKOFF_MS',
      'QUEUE_KEEP_COMPLETED',
      'QUEUE_KEEP_FAILED',
      'QUEUE_ENQUEUE_TIMEOUT_MS',
      'QUEUE_SHUTDOWN_TIMEOUT_MS',
      'QUEUE_LOCK_DURATION_MS',
    ],
  },
  'rate-limit': {
    files: [
      'src/features/rate-limit.ts',
      'src/features/rate-limit/primary-store.ts',
      'test/rate-limit.test.ts',
    ],
    dependencies: ['express-rate-limit'],
    env: ['RATE_LIMIT_WINDOW_MS', 'RATE_LIMIT_MAX'],
  },
  winston: {
    files: ['src/features/winston.ts', 'test/winston.test.ts'],
    dependencies: ['winston'],
    env: ['LOG_FORMAT'],
  },
  pino: {
    files: ['src/features/pino.ts', 'test/pino.test.ts'],
    dependencies: ['pino', 'pino-http'],
    env: [],
  },
  newrelic: {
    files: ['newrelic.cjs', 'src/features/newrelic.ts', 'test/newrelic.test.ts'],
    dependencies: ['newrelic'],
    env: [
      'NEW_RELIC_LICENSE_KEY',
      'NEW_RELIC_APP_NAME',
      'NEW_RELIC_APPLICATION_LOGGING_FORWARDING_ENABLED',
    ],
  },
  otel: {
    files: [
      'src/features/otel.ts',
      'src/features/otel/register.ts',
      'src/features/otel/sampling.ts',
      'src/features/otel/sdk.ts',
      'src/features/otel/server-spans.ts',
      'src/features/otel/settings.ts',
      'src/features/otel/state.ts',
      'test/otel.test.ts',
    ],
    dependencies: [
      '@opentelemetry/api',
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-pg',
      '@opentelemetry/instrumentation-redis',
      '@opentelemetry/instrumentation-undici',
      '@opentelemetry/sdk-node',
      'import-in-the-middle',
    ],
    env: [
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_SERVICE_NAME',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
    ],
  },
  morgan: {
    files: ['src/features/morgan.ts', 'test/morgan.test.ts'],
    dependencies: ['morgan'],
    devDependencies: ['@types/morgan'],
    env: ['MORGAN_FORMAT'],
  },
  metrics: {
    files: [
      'src/features/metrics.ts',
      'src/features/metrics/aggregate.ts',
      'src/features/metrics/serve.ts',
      'test/metrics.test.ts',
      'monitoring/alerts.yml',
      'monitoring/grafana/dashboards/app.json',
      'monitoring/grafana/provisioning/dashboards/dashboards.yml',
      'monitoring/grafana/provisioning/datasources/prometheus.yml',
      'monitoring/prometheus.yml',
    ],
    dependencies: ['prom-client'],
    env: ['METRICS_PORT', 'METRICS_TOKEN'],
  },
  static: {
    files: [
      'public/assets/app.3f9a1c2b.css',
      'public/assets/app.7c1e4d9a.js',
      'public/index.html',
      'src/assets.ts',
      'src/features/static.ts',
      'test/static.test.ts',
    ],
    dependencies: [],
    env: ['ASSET_BASE_URL'],
  },
  docker: {
    files: ['.dockerignore', 'docker-compose.yml', 'Dockerfile'],
    dependencies: [],
    env: [],
  },
  nginx: {
    files: ['nginx/nginx.conf', 'src/features/nginx.ts', 'test/nginx.test.ts'],
    dependencies: [],
    env: ['PROXY_WHOAMI'],
  },
  haproxy: {
    files: ['haproxy/haproxy.cfg', 'src/features/haproxy.ts', 'test/haproxy.test.ts'],
    dependencies: [],
    env: ['PROXY_WHOAMI'],
  },
  kubernetes: {
    files: [
      'k8s/configmap.yaml',
      'k8s/deployment.yaml',
      'k8s/hpa.yaml',
      'k8s/ingress/ingress.yaml',
      'k8s/ingress/kustomization.yaml',
      'k8s/kustomization.yaml',
      'k8s/pdb.yaml',
      'k8s/secret.example.yaml',
      'k8s/service.yaml',
    ],
    dependencies: [],
    env: [],
  },
  'load-shedding': {
    files: [
      'src/features/load-shedding.ts',
      'src/features/load-shedding/pressure.ts',
      'src/features/load-shedding/sampler.ts',
      'test/load-shedding-pressure.test.ts',
      'test/load-shedding.test.ts',
    ],
    dependencies: [],
    env: [
      'SHED_MAX_EVENT_LOOP_DELAY_MS',
      'SHED_MAX_EVENT_LOOP_UTILIZATION',
      'SHED_MAX_HEAP_USED_RATIO',
      'SHED_SAMPLE_INTERVAL_MS',
      'SHED_RETRY_AFTER_SECONDS',
    ],
  },
};

const input = { name: 'render-check', port: 3000, packageManager: 'npm' as const };

function packageJson(tree: FileTree): {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
} {
  return JSON.parse(tree.get('package.json')!);
}

/** Documented variables: each is `NAME=value` (or commented out) under a `# comment` line. */
function envVariables(tree: FileTree): string[] {
  const lines = tree.get('.env.example')!.split('\n');
  const names: string[] = [];
  for (const [i, line] of lines.entries()) {
    const match = /^(?:# ?)?([A-Z][A-Z0-9_]*)=/.exec(line);
    if (!match) continue;
    expect(lines[i - 1], `${match[1]} needs a comment line above it`).toMatch(/^#/);
    names.push(match[1]!);
  }
  return names;
}

describe('every feature, rendered in memory', () => {
  let base: FileTree;

  it('covers every selectable feature', async () => {
    expect(Object.keys(expected).sort()).toEqual(selectableFeatures.map((f) => f.id).sort());
    base = await renderProject({ ...input, features: [] });
  });

  it.each(Object.entries(expected))('%s', async (id, want) => {
    base ??= await renderProject({ ...input, features: [] });
    const tree = await renderProject({ ...input, features: resolveFeatures([id]) });

    const added = [...tree.keys()].filter((path) => !base.has(path));
    expect(added.sort()).toEqual([...want.files].sort());
    expect([...base.keys()].filter((path) => !tree.has(path))).toEqual([]);
    for (const path of added) expect(tree.get(path)!.trim(), path).not.toBe('');

    const pkg = packageJson(tree);
    const before = packageJson(base);
    const newDeps = Object.keys(pkg.dependencies).filter((d) => !(d in before.dependencies));
    expect(newDeps.sort()).toEqual([...want.dependencies].sort());
    for (const dep of newDeps) expect(pkg.dependencies[dep], dep).toMatch(/^\^?\d+\.\d+\.\d+/);
    const newDevDeps = Object.keys(pkg.devDependencies).filter(
      (d) => !(d in before.devDependencies),
    );
    expect(newDevDeps.sort()).toEqual([...(want.devDependencies ?? [])].sort());
    for (const dep of Object.keys(before.devDependencies))
      expect(pkg.devDependencies[dep], dep).toBe(before.devDependencies[dep]);

    const baseEnv = envVariables(base);
    expect(envVariables(tree).filter((name) => !baseEnv.includes(name))).toEqual(want.env);
  });

  it('rate-limit shares its budget through Redis only when redis is on', async () => {
    const aloneTree = await renderProject({ ...input, features: ['rate-limit'] });
    const bothTree = await renderProject({
      ...input,
      features: resolveFeatures(['redis', 'rate-limit']),
    });
    const alone = packageJson(aloneTree);
    const both = packageJson(bothTree);
    expect(alone.dependencies).not.toHaveProperty('rate-limit-redis');
    expect(both.dependencies).toHaveProperty('rate-limit-redis');
    // The Redis-backed store module exists only with redis (it imports the redis client).
    expect(aloneTree.has('src/features/rate-limit/redis-store.ts')).toBe(false);
    expect(bothTree.get('src/features/rate-limit/redis-store.ts')).toContain('RedisBackedStore');
  });

  it('queue jobs carry the trace context only when otel is on', async () => {
    const queueOnly = await renderProject({ ...input, features: resolveFeatures(['queue']) });
    for (const [path, text] of queueOnly) {
      expect(text, path).not.toContain('@opentelemetry');
      expect(text, path).not.toContain('features/otel');
    }
    expect(queueOnly.has('test/queue-trace.test.ts')).toBe(false);

    const traced = await renderProject({
      ...input,
      features: resolveFeatures(['queue', 'otel', 'cluster', 'kubernetes', 'docker']),
    });
    expect(traced.get('src/features/queue/trace.ts')).toContain('propagation.inject');
    expect(traced.get('src/features/queue/trace.ts')).toContain('SpanKind.CONSUMER');
    expect(traced.has('test/queue-trace.test.ts')).toBe(true);
    // The worker process is preloaded like the app, and flushes its spans on exit.
    const worker = 'node --import ./dist/features/otel/register.js dist/worker.js';
    const scripts = (JSON.parse(traced.get('package.json')!) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts['start:worker']).toBe(worker);
    expect(traced.get('docker-compose.yml')).toContain('./dist/features/otel/register.js');
    expect(traced.get('k8s/worker.yaml')).toContain('./dist/features/otel/register.js');
    expect(traced.get('src/worker.ts')).toContain('stopTracing()');
    expect(traced.get('src/features/otel/register.ts')).toContain("endsWith('worker.js')");
    const withPm2 = await renderProject({
      ...input,
      features: resolveFeatures(['queue', 'otel', 'pm2']),
    });
    expect(withPm2.get('ecosystem.config.cjs')).toContain(
      "node_args: ['--import', './dist/features/otel/register.js']",
    );
  });
});
