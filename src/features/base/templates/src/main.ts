import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.js';
import { createContext } from './context.js';
import { settingsOf } from './feature.js';
import { features } from './features/index.js';
import { serve } from './server.js';

// .env, when there is one (development): variables already set in the environment win. Read here,
// not with a node flag, so that production (no .env) starts without a word about it.
if (existsSync('.env')) process.loadEnvFile('.env');

try {
  // The base config and every feature's settings, validated before anything starts, in every
  // process (a cluster primary stops here before forking any worker).
  const ctx = createContext(loadConfig(), features);
  // `node dist/main.js --check-config` validates and stops (PM2's ecosystem runs it first).
  if (process.argv.includes('--check-config')) process.exit(0);
  const launcher = features.find((f) => f.launch);
  if (launcher?.launch) {
    await launcher.launch(() => serve(ctx, features), ctx, settingsOf(ctx, launcher));
  } else {
    await serve(ctx, features);
  }
} catch (error) {
  // A bad environment variable (read by the base config or by a feature) is one clear line.
  if (error instanceof ConfigError) {
    console.error(`Invalid configuration: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
