import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * Cluster aggregation: the primary sums every worker's metrics (prom-client's
 * AggregatorRegistry); a worker that receives a scrape asks the primary for that sum over IPC.
 * Both sides keep the answer for a second and share one pending answer among concurrent
 * scrapes, so a flood of /metrics costs at most one aggregation per second.
 */

/** Set by the cluster primary before it forks: tells workers that it aggregates. */
export const AGGREGATED_ENV = 'METRICS_CLUSTER_AGGREGATED';
const ASK = 'metrics:aggregate';
const ANSWER = 'metrics:aggregated';
const PRIMARY_TIMEOUT_MS = 10_000;
const MAX_AGE_MS = 1000;

/** Where a scrape's text comes from. */
export interface Source {
  contentType: string;
  read(): Promise<string>;
}

/** `read`, with its answer (or the pending one) reused for `maxAgeMs`; a failure is not kept. */
export function reuseFor(
  read: () => Promise<string>,
  maxAgeMs = MAX_AGE_MS,
): () => Promise<string> {
  let last: { at: number; body: Promise<string> } | undefined;
  return () => {
    const now = Date.now();
    if (last && now - last.at < maxAgeMs) return last.body;
    const body = read();
    const entry = { at: now, body };
    last = entry;
    body.catch(() => {
      if (last === entry) last = undefined;
    });
    return body;
  };
}

/** In the primary: answers workers' requests for the aggregate; returns it as a Source. */
export function aggregateInPrimary(): Source {
  process.env[AGGREGATED_ENV] = '1';
  const aggregator = new AggregatorRegistry();
  const read = reuseFor(() => aggregator.clusterMetrics());
  cluster.on('message', (worker, message: unknown) => {
    const ask = message as { type?: unknown; id?: unknown } | null;
    if (ask?.type !== ASK || typeof ask.id !== 'number') return;
    const id = ask.id;
    const reply = (answer: { body?: string; error?: string }): void => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id, ...answer });
    };
    read().then(
      (body) => reply({ body }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : 'failed' }),
    );
  });
  return { contentType: aggregator.contentType, read };
}

let workerSource: Source | undefined;

/**
 * In a worker of our cluster: reports `registry` to the primary's aggregation, and asks the
 * primary for the aggregate when scraped. Once per process (createApp may run several times).
 */
export function aggregateFromWorker(registry: Registry): Source {
  if (workerSource) return workerSource;
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // registers prom-client's worker-side listener
  const pending = new Map<number, (answer: { body?: string; error?: string }) => void>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    const answer = message as { type?: unknown; id?: unknown; body?: string; error?: string };
    if (answer?.type !== ANSWER || typeof answer.id !== 'number') return;
    pending.get(answer.id)?.(answer);
  });
  const ask = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer'));
      }, PRIMARY_TIMEOUT_MS);
      pending.set(id, (answer) => {
        clearTimeout(timer);
        pending.delete(id);
        if (answer.body !== undefined) resolve(answer.body);
        else reject(new Error(answer.error ?? 'metrics aggregation failed'));
      });
      process.send?.({ type: ASK, id });
    });
  workerSource = { contentType: registry.contentType, read: reuseFor(ask) };
  return workerSource;
}
