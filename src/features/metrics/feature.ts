import type { Feature } from '../types.js';

export const metrics: Feature = {
  id: 'metrics',
  title: 'Prometheus metrics',
  description:
    '/metrics with process metrics and request latency by route pattern; aggregated across cluster workers.',
};
