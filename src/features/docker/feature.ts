import type { Feature } from '../types.js';

export const docker: Feature = {
  id: 'docker',
  title: 'Docker + Compose',
  description:
    'Multi-stage Dockerfile (Node 24 slim, non-root, init, HEALTHCHECK) and docker-compose.yml.',
};
