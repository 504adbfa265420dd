import type { Feature } from '../types.js';

export const newrelic: Feature = {
  id: 'newrelic',
  title: 'New Relic APM',
  description:
    'Agent preloaded the ESM way, configured by env, quiet without a license key, flushed on shutdown.',
};
