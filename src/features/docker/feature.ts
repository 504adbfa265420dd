import type { Feature, ProjectContext } from '../types.js';

/** Seconds Compose waits after SIGTERM before SIGKILL: above the app's SHUTDOWN_TIMEOUT_MS (10 s). */
const STOP_GRACE_PERIOD = '15s';
/** Replicas of the app behind a proxy; without one, a single replica publishes the port. */
const PROXIED_REPLICAS = 3;
/** The generated package.json's version, which tags the image Compose builds. */
const APP_VERSION = '0.1.0';

/** The port /metrics moves to (the metrics feature's METRICS_PORT): 9464 unless the app has it. */
export function metricsPort(project: ProjectContext): number {
  return project.port === 9464 ? 9465 : 9464;
}

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

/**
 * The app's service. Hardened: read-only root filesystem (the one writable place is a small
 * /tmp), no Linux capabilities (it listens on an unprivileged port), no privilege gain through
 * setuid binaries, bounded CPU and memory per replica. Other features add to it (redis: its
 * REDIS_URL and depends_on).
 */
function composeServices(project: ProjectContext): Record<string, unknown> {
  const proxied = behindProxy(project);
  const environment: Record<string, string> = {
    NODE_ENV: 'production',
    PORT: String(project.port),
    HOST: '0.0.0.0',
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: '10000',
  };
  // Only when one proxy (nginx or haproxy) is in front: req.ip is then the client's address from
  // X-Forwarded-For. Without one, trusting the header would let any client choose its own ip.
  if (proxied) environment.TRUST_PROXY = '1';
  // The root filesystem is read-only: PM2 keeps its state in /tmp, New Relic logs to stdout.
  if (project.has('pm2')) environment.PM2_HOME = '/tmp/.pm2';
  if (project.has('newrelic')) environment.NEW_RELIC_LOG = 'stdout';
  // /metrics on its own port inside the Compose network: not published, not routed by the proxy.
  if (project.has('metrics')) environment.METRICS_PORT = String(metricsPort(project));

  const app: Record<string, unknown> = {
    build: '.',
    // The version in package.json: bump both when you release (never a moving tag).
    image: `${project.name}:${APP_VERSION}`,
    // An init process as PID 1 forwards signals and reaps zombies; Node is not built for PID 1.
    init: true,
    restart: 'unless-stopped',
    environment,
    // Replicas behind the proxy publish no host port (they would clash); the proxy does.
    ...(proxied ? {} : { ports: [`${project.port}:${project.port}`] }),
    read_only: true,
    tmpfs: ['/tmp'],
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    deploy: {
      replicas: proxied ? PROXIED_REPLICAS : 1,
      resources: { limits: { cpus: '1', memory: '512M' } },
    },
    healthcheck: appHealthcheck(project.port),
    stop_grace_period: STOP_GRACE_PERIOD,
  };
  return { app };
}

export const docker: Feature = {
  id: 'docker',
  title: 'Docker + Compose',
  description:
    'Multi-stage Dockerfile (Node 24 slim, non-root, init, HEALTHCHECK) and docker-compose.yml.',
  composeServices,
};
