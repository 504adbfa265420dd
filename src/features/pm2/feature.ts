import type { Feature } from '../types.js';

export const pm2: Feature = {
  id: 'pm2',
  title: 'PM2',
  description:
    "ecosystem.config.cjs: cluster mode, wait_ready, kill_timeout above the app's drain, restart backoff.",
  conflicts: ['cluster'],
  dependencies: ['pm2'],
  scripts: () => ({
    'start:pm2': 'pm2-runtime start ecosystem.config.cjs',
  }),
  env: () => [
    {
      name: 'WEB_CONCURRENCY',
      example: '2',
      comment: 'PM2 instances to start (default: max, one per CPU).',
    },
    {
      name: 'MAX_MEMORY_RESTART',
      example: '512M',
      comment: 'PM2 restarts an instance whose memory grows above this.',
    },
  ],
};
