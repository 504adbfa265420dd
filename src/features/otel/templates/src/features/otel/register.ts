/**
 * Preloaded by the start script, before the app: `node --import ./dist/features/otel/register.js
 * dist/main.js`. An ES module app is instrumented through a loader hook, so this registers
 * import-in-the-middle's hook with `module.register`, starts the SDK (which tells the hook which
 * modules to wrap), and waits until the hook has them before main.js imports anything.
 * Without an endpoint it does nothing at all: no hook, no SDK.
 */
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { readOtelSettings, type OtelSettings } from './settings.js';

// The same .env main.ts reads (variables already set win), so that OTEL_* there count too.
if (existsSync('.env')) process.loadEnvFile('.env');

let settings: OtelSettings | undefined;
try {
  settings = readOtelSettings(process.env);
} catch {
  // A bad value: main.ts reads the same settings and stops with one clear line.
}

if (isMainThread && settings?.enabled) {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const { startTracing } = await import('./sdk.js');
  startTracing(settings);
  await waitForAllMessagesAcknowledged();
}
