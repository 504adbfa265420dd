import type { Feature, ProjectContext } from '../types.js';

/** Seconds Compose waits after SIGTERM before SIGKILL: above the app's SHUTDOWN_TIMEOUT_MS (10 s). */
const STOP_GRACE_PERIOD = '15s';
/** Replicas of the app behind a proxy; without one, a single replica publishes the port. */
const PROXIED_REPLICAS = 3;

function behindProxy(project: ProjectContext): boolean {
  return project.has('nginx') || project.has('haproxy');
}

/** The same liveness check as the Dockerfile's HEALTHCHECK: Node's fetch, no curl needed. */
function appHealthcheck(port: number): Record<string, unknown> {
  const script = `fetch('http://127.0.0.1:${port}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return {
    test: ['CMD', 'node', '-e', script],
    interval: '10s',
    timeout: '3s',
    start_period: '15s',
    retries: 3,
  };
}

function composeServices(project: ProjectContext): Record<string, unknown> {
  const proxied = behindProxy(project);
  const environment: Record<string, string> = {
    NODE_ENV: 'production',
    PORT: String(project.port),
    HOST: '0.0.0.0',
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: '10000',
  };
  // One proxy (nginx or haproxy) in front: req.ip is the client's address from X-Forwarded-For.
  if (proxied) environment.TRUST_PROXY = '1';
  if (project.has('redis')) environment.REDIS_URL = 'redis://redis:6379';

  const app: Record<string, unknown> = {
    build: '.',
    image: `${project.name}:latest`,
    // An init process as PID 1 forwards signals and reaps zombies; Node is not built for PID 1.
    init: true,
    restart: 'unless-stopped',
    environment,
    // Replicas behind the proxy publish no host port (they would clash); the proxy does.
    ...(proxied ? {} : { ports: [`${project.port}:${project.port}`] }),
    deploy: { replicas: proxied ? PROXIED_REPLICAS : 1 },
    healthcheck: appHealthcheck(project.port),
    stop_grace_period: STOP_GRACE_PERIOD,
  };
  const services: Record<string, unknown> = { app };

  if (project.has('redis')) {
    app.depends_on = { redis: { condition: 'service_healthy' } };
    services.redis = {
      image: 'redis:7-alpine',
      // A cache: no persistence, bounded memory, least-recently-used keys evicted first.
      command: [
        'redis-server',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory',
        '256mb',
        '--maxmemory-policy',
        'allkeys-lru',
      ],
      restart: 'unless-stopped',
      healthcheck: {
        test: ['CMD', 'redis-cli', 'ping'],
        interval: '5s',
        timeout: '3s',
        retries: 5,
      },
    };
  }
  return services;
}

export const docker: Feature = {
  id: 'docker',
  title: 'Docker + Compose',
  description:
    'Multi-stage Dockerfile (Node 24 slim, non-root, init, HEALTHCHECK) and docker-compose.yml.',
  composeServices,
};
