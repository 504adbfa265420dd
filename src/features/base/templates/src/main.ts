import { ConfigError, loadConfig } from './config.js';
import { createContext } from './context.js';
import { features } from './features/index.js';
import { serve } from './server.js';

try {
  const ctx = createContext(loadConfig(), features);
  const launcher = features.find((f) => f.launch);
  if (launcher?.launch) await launcher.launch(() => serve(ctx, features), ctx);
  else await serve(ctx, features);
} catch (error) {
  // A bad environment variable (read by the base config or by a feature) is one clear line.
  if (error instanceof ConfigError) {
    console.error(`Invalid configuration: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
