import type { ProjectContext } from '../types.js';

/**
 * Pinned to patch releases (never a moving tag), like the other services' images: Prometheus's
 * long-term-support line, and the Grafana whose published types (@grafana/schema, the same
 * version) the tests check the dashboard against.
 */
export const PROMETHEUS_IMAGE = 'prom/prometheus:v3.13.0';
export const GRAFANA_IMAGE = 'grafana/grafana:13.2.3';

/** Compose refuses to start without it: Grafana must never come up with admin/admin. */
const GRAFANA_PASSWORD =
  '${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD (e.g. openssl rand -hex 16)}';

/** The usual host port, or the next ones when the app already publishes it. */
function hostPort(project: ProjectContext, usual: number): number {
  let port = usual;
  while (port === project.port) port += 1;
  return port;
}

export function prometheusHostPort(project: ProjectContext): number {
  return hostPort(project, 9090);
}

export function grafanaHostPort(project: ProjectContext): number {
  return hostPort(project, 3000);
}

/**
 * Prometheus (scraping every app replica, see monitoring/prometheus.yml) and Grafana with its
 * datasource and dashboard provisioned from monitoring/grafana. Both publish on 127.0.0.1 only:
 * open them through an SSH tunnel or put them behind your own authentication proxy.
 */
export function monitoringComposeServices(project: ProjectContext): Record<string, unknown> {
  const hardened = {
    restart: 'unless-stopped',
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
  };
  return {
    prometheus: {
      image: PROMETHEUS_IMAGE,
      command: [
        '--config.file=/etc/prometheus/prometheus.yml',
        '--storage.tsdb.path=/prometheus',
        '--storage.tsdb.retention.time=15d',
      ],
      ports: [`127.0.0.1:${prometheusHostPort(project)}:9090`],
      volumes: [
        './monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
        './monitoring/alerts.yml:/etc/prometheus/alerts.yml:ro',
        // An anonymous volume: the data outlives restarts, not `docker compose down -v`.
        '/prometheus',
      ],
      depends_on: { app: { condition: 'service_started' } },
      ...hardened,
      deploy: { resources: { limits: { cpus: '0.5', memory: '512M' } } },
    },
    grafana: {
      image: GRAFANA_IMAGE,
      environment: {
        GF_SECURITY_ADMIN_USER: 'admin',
        GF_SECURITY_ADMIN_PASSWORD: GRAFANA_PASSWORD,
        GF_USERS_ALLOW_SIGN_UP: 'false',
        GF_ANALYTICS_REPORTING_ENABLED: 'false',
      },
      ports: [`127.0.0.1:${grafanaHostPort(project)}:3000`],
      volumes: [
        './monitoring/grafana/provisioning:/etc/grafana/provisioning:ro',
        './monitoring/grafana/dashboards:/etc/grafana/dashboards:ro',
        '/var/lib/grafana',
      ],
      depends_on: { prometheus: { condition: 'service_started' } },
      ...hardened,
      deploy: { resources: { limits: { cpus: '0.5', memory: '256M' } } },
    },
  };
}
