import type { Feature } from '../types.js';

/**
 * The agent must load before any other module. The app is ESM, so New Relic's loader hooks the
 * imports (`--import newrelic/esm-loader.mjs`) and `-r newrelic` starts the agent, which reads
 * `newrelic.cjs`. The start script stays `node <flags> dist/main.js` with no shell syntax: the
 * test-build, the Dockerfile CMD and PM2 run it as an argv.
 */
export const NEWRELIC_NODE_FLAGS = '--import newrelic/esm-loader.mjs -r newrelic';

export const newrelic: Feature = {
  id: 'newrelic',
  title: 'New Relic APM',
  description:
    'Agent preloaded the ESM way, configured by env, quiet without a license key, flushed on shutdown.',
  dependencies: ['newrelic'],
  appModule: true,
  scripts: () => ({
    start: `node ${NEWRELIC_NODE_FLAGS} dist/main.js`,
  }),
  env: (project) => [
    {
      name: 'NEW_RELIC_LICENSE_KEY',
      example: '',
      comment: 'New Relic ingest license key. Empty: the agent stays disabled (and quiet).',
    },
    {
      name: 'NEW_RELIC_APP_NAME',
      example: project.name,
      comment: 'Application name in New Relic (several names: separate them with ";").',
    },
    {
      name: 'NEW_RELIC_APPLICATION_LOGGING_FORWARDING_ENABLED',
      example: 'false',
      comment:
        'Forward app log lines to New Relic. Keep false when a log shipper already collects stdout (duplicate ingestion).',
    },
  ],
};
