import type { EnvVar, Feature } from '../types.js';

/** The image docker-compose.yml runs: the current stable nginx line (1.30), on Alpine (has wget). */
export const NGINX_IMAGE = 'nginx:1.30-alpine';

/** The /whoami diagnostic both load-balancer features ship (src/features/<id>.ts). */
export function whoamiEnv(proxy: string): EnvVar[] {
  return [
    {
      name: 'PROXY_WHOAMI',
      example: 'false',
      comment: `GET /whoami shows the client ip, protocol and instance the app sees, to check the setup behind ${proxy}, which needs TRUST_PROXY=1. true | false; default: on outside production.`,
    },
  ];
}

export const nginx: Feature = {
  id: 'nginx',
  title: 'Nginx load balancer',
  description:
    'least_conn upstream with keep-alive, failover, forwarded headers, gzip, WebSockets.',
  conflicts: ['haproxy'],
  env: () => whoamiEnv('nginx'),
  appModule: true,
  composeServices: () => ({
    nginx: {
      image: NGINX_IMAGE,
      ports: ['8080:80'],
      volumes: ['./nginx/nginx.conf:/etc/nginx/nginx.conf:ro'],
      depends_on: { app: { condition: 'service_healthy' } },
      healthcheck: {
        test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1/nginx-health'],
        interval: '10s',
        timeout: '3s',
        retries: 3,
      },
      restart: 'unless-stopped',
    },
  }),
};
