import { ConfigError, loadConfig } from './config.js';
import { createContext } from './context.js';
import { features } from './features/index.js';
import { serve } from './server.js';

function configOrExit(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

const ctx = createContext(configOrExit(), features);
const launcher = features.find((f) => f.launch);
if (launcher?.launch) await launcher.launch(() => serve(ctx, features), ctx);
else await serve(ctx, features);
