import type { Feature } from '../types.js';

export const cluster: Feature = {
  id: 'cluster',
  title: 'Node cluster',
  description:
    'One worker per CPU; crashed workers respawn with backoff; graceful shutdown of all workers.',
  conflicts: ['pm2'],
  appModule: true,
  env: () => [
    {
      name: 'WEB_CONCURRENCY',
      example: '2',
      comment:
        'Cluster workers to fork (default: the available CPUs). Inside Kubernetes set 1 and scale with replicas.',
    },
    {
      name: 'CLUSTER_MAX_CRASHES',
      example: '5',
      comment:
        'Crash budget: more unexpected worker deaths than this within CLUSTER_CRASH_WINDOW_MS stop the whole process (exit 1).',
    },
    {
      name: 'CLUSTER_CRASH_WINDOW_MS',
      example: '60000',
      comment: 'The window the crash budget counts over.',
    },
  ],
};
