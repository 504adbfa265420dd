import { createRequire } from 'node:module';
import type { Feature } from '../feature.js';

/** The part of the agent's API this module uses (the newrelic package ships no types). */
interface NewRelicApi {
  agent?: { config?: { agent_enabled?: boolean } };
  shutdown(
    options: { collectPendingData?: boolean; timeout?: number },
    callback: (error?: unknown) => void,
  ): void;
}

const require = createRequire(import.meta.url);

/**
 * The agent, only if the start script preloaded it (`-r newrelic`). This module never loads it
 * itself: loaded late, it would miss the modules imported before it, and tests would start one.
 */
export function preloadedAgent(): NewRelicApi | undefined {
  let path: string;
  try {
    path = require.resolve('newrelic');
  } catch {
    return undefined;
  }
  return require.cache[path]?.exports as NewRelicApi | undefined;
}

/** How long shutdown waits for the agent to send its last harvest. */
export const FLUSH_TIMEOUT_MS = 3_000;

/** Sends pending data to New Relic, bounded by a timeout so that shutdown never hangs on it. */
export async function flushAgent(
  agent: NewRelicApi,
  timeoutMs: number = FLUSH_TIMEOUT_MS,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const flushed = new Promise<void>((resolve, reject) => {
    agent.shutdown({ collectPendingData: true, timeout: timeoutMs }, (error) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
    );
  });
  const gaveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs + 500);
    timer.unref();
  });
  try {
    await Promise.race([flushed, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

export interface NewRelicSettings {
  appName: string | undefined;
  hasLicenseKey: boolean;
}

let agent: NewRelicApi | undefined;

const feature: Feature<NewRelicSettings> = {
  name: 'newrelic',
  // The agent reads its own variables (newrelic.cjs); these only make start-up messages clear.
  readSettings: (env) => ({
    appName: env.NEW_RELIC_APP_NAME?.trim() || undefined,
    hasLicenseKey: Boolean(env.NEW_RELIC_LICENSE_KEY?.trim()),
  }),
  setup(_app, ctx, settings) {
    agent = preloadedAgent();
    const enabled = agent?.agent?.config?.agent_enabled === true;
    if (enabled) {
      ctx.logger.info('New Relic agent reporting', { appName: settings.appName });
    } else if (!agent && settings.hasLicenseKey) {
      ctx.logger.warn(
        'NEW_RELIC_LICENSE_KEY is set but the agent was not preloaded: start with npm start (node --import newrelic/esm-loader.mjs -r newrelic dist/main.js)',
      );
    } else {
      ctx.logger.debug('New Relic agent disabled (no NEW_RELIC_LICENSE_KEY)');
    }
  },
  async shutdown() {
    if (agent?.agent?.config?.agent_enabled === true) await flushAgent(agent);
  },
};

export default feature;
