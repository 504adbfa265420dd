/**
 * The three ways to reach Redis (one server, a Cluster, Sentinel) behind one small interface,
 * so the cache, the rate limiter and the breaker work the same with each.
 */
import { createClient, createCluster, createSentinel } from 'redis';
import { withTimeout } from '../../breaker.js';

/** Where Redis is: one server (REDIS_URL), a Cluster, or a master watched by Sentinel. */
export type RedisTarget =
  | { mode: 'single'; url: string }
  | {
      mode: 'cluster';
      nodes: string[];
      password: string | undefined;
      username: string | undefined;
    }
  | {
      mode: 'sentinel';
      sentinels: { host: string; port: number }[];
      masterName: string;
      password: string | undefined;
    };

/** Longest pause between reconnect attempts: Redis coming back is noticed within this. */
const MAX_RECONNECT_DELAY_MS = 2000;

/** A Cluster probe waits this long for a node's answer, then the next one asks another node. */
const CLUSTER_PROBE_TIMEOUT_MS = 2000;

/** Retry forever with a capped, jittered backoff: Redis coming back resumes without a restart. */
export function reconnectDelay(retries: number): number {
  return (
    Math.min(100 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS) +
    Math.floor(Math.random() * 100)
  );
}

/** Options of every connection to a Redis server, whatever the mode. */
function nodeOptions(password: string | undefined, username?: string) {
  return {
    ...(password !== undefined && { password }),
    ...(username !== undefined && { username }),
    // Fail fast while disconnected instead of queueing commands in memory until Redis is back.
    disableOfflineQueue: true,
    // Never let the queue grow without bound when Redis is slow: a full queue is a failure.
    commandsQueueMaxLength: 1000,
    socket: { connectTimeout: 2000, reconnectStrategy: reconnectDelay },
  };
}

/**
 * The commands this app sends, the same whatever the mode. `sendCommand` runs any other
 * command; under a Cluster `key` picks the node that owns it (no key: any node).
 */
export interface RedisCommands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<unknown>;
  sendCommand(args: string[], key?: string, isReadOnly?: boolean): Promise<unknown>;
}

/** A node-redis client of one of the three kinds, with what the connection does with it. */
export interface Backend {
  client: { readonly isReady: boolean; on(event: string, listener: (arg: unknown) => void): void };
  commands: RedisCommands;
  connect(): Promise<unknown>;
  /** The breaker's probe: resolves once keyed commands can work again. */
  probe(): Promise<unknown>;
  /** Readiness: every server answers. */
  allAnswer(): Promise<boolean>;
  close(): Promise<unknown>;
  destroy(): unknown;
}

const setEx = (ttlSeconds: number) => ({ expiration: { type: 'EX' as const, value: ttlSeconds } });

function singleBackend(url: string): Backend {
  const client = createClient({ url, ...nodeOptions(undefined) });
  return {
    client,
    commands: {
      get: (key) => client.get(key),
      set: (key, value, ttl) => client.set(key, value, setEx(ttl)),
      sendCommand: (args) => client.sendCommand(args),
    },
    connect: () => client.connect(),
    probe: () => client.ping(),
    allAnswer: async () => (await client.ping()) === 'PONG',
    close: () => client.close(),
    destroy: () => client.destroy(),
  };
}

function clusterBackend(target: Extract<RedisTarget, { mode: 'cluster' }>): Backend {
  const cluster = createCluster({
    rootNodes: target.nodes.map((url) => ({ url })),
    // Applies to the connection to every node found, not only to the root nodes.
    defaults: nodeOptions(target.password, target.username),
  });
  return {
    client: cluster,
    commands: {
      get: (key) => cluster.get(key),
      set: (key, value, ttl) => cluster.set(key, value, setEx(ttl)),
      // Routed by key: a script (EVALSHA) must run on the node that owns its key.
      sendCommand: (args, key, isReadOnly = false) => cluster.sendCommand(key, isReadOnly, args),
    },
    connect: () => cluster.connect(),
    // A cluster with an uncovered slot (a master down, no replica) answers keyed commands with
    // CLUSTERDOWN while PING still works: ask any node whether the cluster serves. Bounded: a
    // hung node must not hold the breaker open once the others serve (after a failover).
    probe: async () => {
      const ask = cluster.sendCommand(undefined, true, ['CLUSTER', 'INFO']);
      const info = String(await withTimeout(ask, CLUSTER_PROBE_TIMEOUT_MS));
      if (!info.includes('cluster_state:ok')) throw new Error('redis cluster state is not ok');
    },
    allAnswer: async () => {
      const replies = await Promise.all(
        cluster.masters.map(async (master) => (await cluster.nodeClient(master)).ping()),
      );
      return replies.length > 0 && replies.every((reply) => reply === 'PONG');
    },
    close: () => cluster.close(),
    destroy: () => cluster.destroy(),
  };
}

function sentinelBackend(target: Extract<RedisTarget, { mode: 'sentinel' }>): Backend {
  const sentinel = createSentinel({
    name: target.masterName,
    sentinelRootNodes: target.sentinels,
    nodeClientOptions: nodeOptions(target.password),
    sentinelClientOptions: { socket: { connectTimeout: 2000, reconnectStrategy: reconnectDelay } },
  });
  return {
    client: sentinel,
    commands: {
      get: (key) => sentinel.get(key),
      set: (key, value, ttl) => sentinel.set(key, value, setEx(ttl)),
      sendCommand: (args, _key, isReadOnly = false) => sentinel.sendCommand(isReadOnly, args),
    },
    connect: () => sentinel.connect(),
    probe: () => sentinel.ping(),
    allAnswer: async () => (await sentinel.ping()) === 'PONG',
    close: () => sentinel.close(),
    destroy: () => sentinel.destroy(),
  };
}

export function newBackend(target: RedisTarget): Backend {
  if (target.mode === 'cluster') return clusterBackend(target);
  if (target.mode === 'sentinel') return sentinelBackend(target);
  return singleBackend(target.url);
}
