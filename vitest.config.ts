import { defineConfig } from 'vitest/config';
import SlowestFirst from './test/helpers/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests install real packages and boot real servers: give them room.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    // The slowest files first, so that the two workers finish together (test/helpers/sequencer.ts).
    sequence: { sequencer: SlowestFirst },
    // The usual report, then each file's time (test/helpers/timing-reporter.ts).
    reporters: ['default', './test/helpers/timing-reporter.ts'],
  },
});
