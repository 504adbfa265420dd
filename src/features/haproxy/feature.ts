import type { Feature } from '../types.js';

export const haproxy: Feature = {
  id: 'haproxy',
  title: 'HAProxy load balancer',
  description: 'Health-checked backends with retries and redispatch, forwarded headers.',
  conflicts: ['nginx'],
};
