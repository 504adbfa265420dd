import type { Feature } from '../types.js';

export const nginx: Feature = {
  id: 'nginx',
  title: 'Nginx load balancer',
  description:
    'least_conn upstream with keep-alive, failover, forwarded headers, gzip, WebSockets.',
  conflicts: ['haproxy'],
};
