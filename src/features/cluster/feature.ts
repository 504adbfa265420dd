import type { Feature } from '../types.js';

export const cluster: Feature = {
  id: 'cluster',
  title: 'Node cluster',
  description:
    'One worker per CPU; crashed workers respawn with backoff; graceful shutdown of all workers.',
  conflicts: ['pm2'],
};
