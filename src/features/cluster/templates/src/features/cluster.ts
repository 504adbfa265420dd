import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { readInt } from '../config.js';
import { settingsOf, type AppContext, type Feature } from '../feature.js';
import { serializeError } from '../logger.js';

type Env = Record<string, string | undefined>;

/** How long the primary waits for its workers after their own drain deadline. */
const EXIT_MARGIN_MS = 5_000;
/** How long a worker asked to shut down waits for a signal that may already be on its way. */
const SIGNAL_SETTLE_MS = 100;
/** The message the primary sends a worker to make it shut down gracefully. */
export const SHUTDOWN_MESSAGE = 'cluster:shutdown';

export interface ClusterOptions {
  workers: number;
  maxCrashes: number;
  crashWindowMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** WEB_CONCURRENCY, else one worker per available CPU; always at least 1. */
export function clusterOptions(env: Env): ClusterOptions {
  return {
    workers: readInt(env, 'WEB_CONCURRENCY', Math.max(1, availableParallelism()), 1, 1024),
    maxCrashes: readInt(env, 'CLUSTER_MAX_CRASHES', 5, 0, 1000),
    crashWindowMs: readInt(env, 'CLUSTER_CRASH_WINDOW_MS', 60_000, 1, 86_400_000),
    backoffBaseMs: 250,
    backoffMaxMs: 10_000,
  };
}

/**
 * Decides what to do when a worker dies unexpectedly: respawn after an exponential backoff, or,
 * when more than `maxCrashes` deaths happened within `crashWindowMs`, give up (a crash loop).
 */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(private readonly options: ClusterOptions) {}

  /** Records a crash at `now`; returns the delay before respawning, or undefined to give up. */
  onCrash(now: number): number | undefined {
    this.crashes = this.crashes.filter((t) => now - t < this.options.crashWindowMs);
    this.crashes.push(now);
    const recent = this.crashes.length;
    if (recent > this.options.maxCrashes) return undefined;
    return Math.min(this.options.backoffBaseMs * 2 ** (recent - 1), this.options.backoffMaxMs);
  }

  /** Crashes counted in the current window (as of the last crash). */
  get recentCrashes(): number {
    return this.crashes.length;
  }
}

async function runPrimary(ctx: AppContext, options: ClusterOptions): Promise<void> {
  const { logger } = ctx;
  const policy = new RestartPolicy(options);
  // Features that live in the primary (metrics aggregation) start before any worker exists.
  // Imported here, not at the top, because the registry imports this module.
  const { features } = await import('./index.js');
  for (const feature of features) await feature.primary?.(ctx, settingsOf(ctx, feature));

  let stopping = false;
  const respawns = new Set<NodeJS.Timeout>();
  // Our own list: cluster.workers still holds a dead worker until its IPC channel closes.
  const alive = new Map<number, Worker>();

  const fork = (): void => {
    const worker = cluster.fork();
    alive.set(worker.id, worker);
    logger.info('worker started', { worker: worker.id, pid: worker.process.pid });
  };

  const exitWhenAllGone = (code: number): void => {
    if (alive.size === 0) {
      logger.info('all workers stopped', { code });
      process.exit(code);
    }
  };

  cluster.on('exit', (worker, code, signal) => {
    alive.delete(worker.id);
    if (stopping) {
      exitWhenAllGone(0);
      return;
    }
    const delay = policy.onCrash(Date.now());
    if (delay === undefined) {
      logger.error('crash loop: too many workers died, stopping', {
        crashes: policy.recentCrashes,
        windowMs: options.crashWindowMs,
        maxCrashes: options.maxCrashes,
        lastExit: { worker: worker.id, pid: worker.process.pid, code, signal },
      });
      stopping = true;
      for (const timer of respawns) clearTimeout(timer);
      // Workers exit on their own once the primary is gone (they watch 'disconnect').
      process.exit(1);
      return;
    }
    logger.warn('worker died unexpectedly: respawning', {
      worker: worker.id,
      pid: worker.process.pid,
      code,
      signal,
      delayMs: delay,
    });
    const timer = setTimeout(() => {
      respawns.delete(timer);
      if (!stopping) fork();
    }, delay);
    respawns.add(timer);
  });

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    for (const timer of respawns) clearTimeout(timer);
    respawns.clear();
    logger.info('shutting down workers', { signal, workers: alive.size });
    for (const worker of alive.values()) {
      if (worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
      else worker.process.kill('SIGTERM');
    }
    const deadlineMs = ctx.config.shutdownTimeoutMs + EXIT_MARGIN_MS;
    setTimeout(() => {
      const left = [...alive.values()];
      logger.error('workers did not exit in time: killing them', {
        deadlineMs,
        pids: left.map((w) => w.process.pid),
      });
      for (const worker of left) worker.process.kill('SIGKILL');
      process.exit(1);
    }, deadlineMs).unref();
    exitWhenAllGone(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  logger.info('primary started', { pid: process.pid, workers: options.workers });
  for (let i = 0; i < options.workers; i++) fork();
}

async function runWorker(serve: () => Promise<void>, ctx: AppContext): Promise<void> {
  // The primary is gone (killed, crashed): nobody supervises this worker any more, exit at once.
  process.on('disconnect', () => {
    ctx.logger.error('primary process is gone: worker exiting', { pid: process.pid });
    process.exit(1);
  });
  // A signal may reach the worker directly (Ctrl-C signals the whole process group) as well as
  // the primary's request: only the first one starts the graceful shutdown (a second signal
  // means "exit now" to the server).
  let serving = false;
  let signalled = false;
  const onSignal = (): void => {
    signalled = true;
    // Still starting: nothing is being served yet, so there is nothing to drain.
    if (!serving) process.exit(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  process.on('message', (message: unknown) => {
    if (message !== SHUTDOWN_MESSAGE || signalled) return;
    if (!serving) process.exit(0);
    // On Ctrl-C the terminal's SIGINT reached this worker before the primary could even ask, but
    // it may be processed after the message: give it a moment so that it is not taken for a
    // second signal ("exit now").
    setTimeout(() => {
      if (signalled) return;
      signalled = true;
      process.kill(process.pid, 'SIGTERM');
    }, SIGNAL_SETTLE_MS);
  });
  try {
    await serve();
    serving = true;
  } catch (error) {
    ctx.logger.error('worker failed to start', { error: serializeError(error) });
    process.exit(1);
  }
}

/**
 * Cluster: the primary forks WEB_CONCURRENCY workers and supervises them; each worker runs the
 * whole app. See the README's "Node cluster" section.
 */
const clusterFeature: Feature<ClusterOptions> = {
  name: 'cluster',
  readSettings: (env) => clusterOptions(env),
  async launch(serve, ctx, options) {
    if (cluster.isPrimary) await runPrimary(ctx, options);
    else await runWorker(serve, ctx);
  },
};

export default clusterFeature;
