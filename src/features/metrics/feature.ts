import type { Feature } from '../types.js';
import { monitoringComposeServices } from './compose.js';

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
        'Serve /metrics on this separate port (never published, never behind the public proxy) instead of the app port. With cluster, the primary serves the aggregate here.',
    },
    {
      name: 'METRICS_TOKEN',
      example: '',
      comment:
        'At least 16 characters: /metrics on the app port then requires "Authorization: Bearer <token>". In production /metrics is off unless this or METRICS_PORT is set.',
    },
  ],
  composeServices: monitoringComposeServices,
};
