import type { EnvVar, Feature } from '../types.js';

/** The image docker-compose.yml runs: the current stable nginx (1.30), on Alpine (has wget). */
export const NGINX_IMAGE = 'nginx:1.30.3-alpine';

/**
 * Hardening shared by both proxies' compose services: the image's unprivileged `user`, a
 * read-only root filesystem with `tmpfs` where the proxy writes (none for HAProxy), no Linux
 * capabilities (both listen on 8080, so binding needs none), no privilege gain through setuid
 * binaries, bounded CPU and memory (a tmpfs's pages count towards the memory limit too).
 */
export function proxyHardening(user: string, tmpfs: string[]): Record<string, unknown> {
  return {
    user,
    read_only: true,
    ...(tmpfs.length > 0 ? { tmpfs } : {}),
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    deploy: { resources: { limits: { cpus: '1', memory: '256M' } } },
  };
}

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
      ports: ['8080:8080'],
      volumes: ['./nginx/nginx.conf:/etc/nginx/nginx.conf:ro'],
      // nginx.conf puts the pid file and every temp path in /tmp (64 MB: request bodies are
      // at most 1 MB, larger responses spill there).
      ...proxyHardening('nginx', ['/tmp:size=64m']),
      depends_on: { app: { condition: 'service_healthy' } },
      healthcheck: {
        test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/nginx-health'],
        interval: '10s',
        timeout: '3s',
        retries: 3,
      },
      restart: 'unless-stopped',
    },
  }),
};
