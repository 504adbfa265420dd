import type { Feature } from '../types.js';

export const pm2: Feature = {
  id: 'pm2',
  title: 'PM2',
  description:
    "ecosystem.config.cjs: cluster mode, wait_ready, kill_timeout above the app's drain, restart backoff.",
  conflicts: ['cluster'],
};
