import { proxyHardening, whoamiEnv } from '../nginx/feature.js';
import type { Feature } from '../types.js';

/** The image docker-compose.yml runs: HAProxy 3.4, the current LTS line, on Alpine (has wget). */
export const HAPROXY_IMAGE = 'haproxy:3.4.0-alpine';

export const haproxy: Feature = {
  id: 'haproxy',
  title: 'HAProxy load balancer',
  description: 'Health-checked backends with retries and redispatch, forwarded headers.',
  conflicts: ['nginx'],
  env: () => whoamiEnv('HAProxy'),
  appModule: true,
  composeServices: () => ({
    haproxy: {
      image: HAPROXY_IMAGE,
      ports: ['8080:8080'],
      volumes: ['./haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro'],
      // haproxy.cfg has no pid file, stats socket or disk cache: HAProxy writes no file at all.
      ...proxyHardening('haproxy', []),
      depends_on: { app: { condition: 'service_healthy' } },
      healthcheck: {
        test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/haproxy-health'],
        interval: '10s',
        timeout: '3s',
        retries: 3,
      },
      restart: 'unless-stopped',
    },
  }),
};
