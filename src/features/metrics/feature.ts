import type { Feature } from '../types.js';

export const metrics: Feature = {
  id: 'metrics',
  title: 'Prometheus metrics',
  description:
    '/metrics with process metrics and request latency by route pattern; aggregated across cluster workers.',
  dependencies: ['prom-client'],
  appModule: true,
  env: () => [
    {
      name: 'METRICS_PORT',
      example: '',
      comment:
        'Serve /metrics on this separate port (keep it private) instead of the app port. With cluster, the primary serves the aggregate here.',
    },
    {
      name: 'METRICS_TOKEN',
      example: '',
      comment:
        'When set, /metrics requires "Authorization: Bearer <token>". Set it (or METRICS_PORT) in production.',
    },
  ],
};
