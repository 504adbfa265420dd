import { Agent, request } from 'node:http';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * One HTTP/1.1 request with exactly the given headers, on a fresh connection unless an agent is
 * given; the body comes back as sent (fetch would add headers such as Accept-Encoding and
 * decompress).
 */
export function send(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** A keep-alive pool to send on; a fresh connection when absent. */
    agent?: Agent;
    /** Fail when no complete answer came within this long. */
    timeoutMs?: number;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () =>
        req.destroy(new Error(`no answer within ${options.timeoutMs}ms`)),
      );
    }
    req.end(options.body);
  });
}

/** What GET /whoami (the nginx and haproxy features' setup check) answers. */
export interface Whoami {
  ip: string;
  ips: string[];
  protocol: string;
  forwardedFor: string | null;
  requestId: string;
  instance: { hostname: string; pid: number };
}

export async function whoami(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ reply: Reply; seen: Whoami }> {
  const reply = await send(`${url}/whoami`, { headers });
  if (reply.status !== 200) {
    throw new Error(`GET /whoami answered ${reply.status}: ${reply.body.toString()}`);
  }
  return { reply, seen: JSON.parse(reply.body.toString()) as Whoami };
}

export interface TrafficResult {
  /** Status of every request in order; 0 when the connection failed without an answer. */
  statuses: number[];
  /** The pid of the instance that answered each successful GET /whoami, in order. */
  servedBy: number[];
  /** servedBy as it was when `action` started. */
  servedBeforeAction: number[];
  /** Requests sent after `action` had finished: status and the pid that answered. */
  afterAction: { status: number; pid?: number }[];
}

/**
 * Sends `clients` concurrent loops of GET /whoami through `url`, each request on a fresh
 * connection, and runs `action` (stopping an instance) once `after` answers have arrived. The
 * loops keep going while it runs and until each has sent `afterAction` more requests once it has
 * finished (`perClient` at least, in all).
 */
export async function trafficDuring(
  url: string,
  action: () => Promise<unknown>,
  { clients = 4, perClient = 40, after = 20, afterAction = 10 } = {},
): Promise<TrafficResult> {
  const result: TrafficResult = {
    statuses: [],
    servedBy: [],
    servedBeforeAction: [],
    afterAction: [],
  };
  let started: Promise<unknown> | undefined;
  let finished = false;
  const client = async (): Promise<void> => {
    let sentAfter = 0;
    for (let i = 0; i < 2000 && (i < perClient || sentAfter < afterAction); i++) {
      const isAfter = finished;
      if (isAfter) sentAfter++;
      let status = 0;
      let pid: number | undefined;
      try {
        const reply = await send(`${url}/whoami`);
        status = reply.status;
        if (status === 200) pid = (JSON.parse(reply.body.toString()) as Whoami).instance.pid;
      } catch {
        // reset or refused: no answer at all (status stays 0)
      }
      result.statuses.push(status);
      if (pid !== undefined) result.servedBy.push(pid);
      if (isAfter) result.afterAction.push({ status, pid });
      if (result.statuses.length >= after && !started) {
        result.servedBeforeAction = [...result.servedBy];
        started = action().finally(() => (finished = true));
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  await started;
  if (!started) throw new Error('the action never ran');
  return result;
}

export interface MixedTraffic {
  /** Requests answered so far, by status. */
  readonly statuses: Map<number, number>;
  /**
   * Requests that failed: a 5xx from the proxy or the app, a POST whose echo does not match what
   * was sent, or no answer at all (reset, hang-up, timeout), each with its method and reason.
   */
  readonly failures: string[];
  /** How often each instance answered a GET /whoami. */
  readonly servedBy: Map<number, number>;
  /** Stops starting requests and waits for the ones in flight. */
  stop(): Promise<void>;
}

/**
 * A steady mix of GET /whoami and POST /api/echo (a JSON body the app echoes) through `url`, from
 * `clients` loops over keep-alive connections, each pausing `pauseMs` between requests, until
 * stop(). POST is the point: a proxy retries a failed GET on another instance and so hides an
 * app-side reset, but never replays a POST that it already sent.
 */
export function mixedTraffic(url: string, { clients = 6, pauseMs = 5, timeoutMs = 15_000 } = {}) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const traffic = {
    statuses: new Map<number, number>(),
    failures: [] as string[],
    servedBy: new Map<number, number>(),
  };
  let stopping = false;
  const count = <K>(map: Map<K, number>, key: K): void => {
    map.set(key, (map.get(key) ?? 0) + 1);
  };
  const one = async (client: number, i: number): Promise<void> => {
    const post = i % 2 === 1;
    const payload = JSON.stringify({ client, i });
    const label = post ? `POST /api/echo #${client}.${i}` : `GET /whoami #${client}.${i}`;
    try {
      const reply = await send(post ? `${url}/api/echo` : `${url}/whoami`, {
        method: post ? 'POST' : 'GET',
        headers: post ? { 'Content-Type': 'application/json' } : {},
        body: post ? payload : undefined,
        agent,
        timeoutMs,
      });
      count(traffic.statuses, reply.status);
      const text = reply.body.toString();
      if (reply.status >= 500)
        traffic.failures.push(`${label}: ${reply.status} ${text.slice(0, 80)}`);
      else if (post && text !== JSON.stringify({ received: JSON.parse(payload) as unknown }))
        traffic.failures.push(`${label}: ${reply.status} echoed ${text.slice(0, 80)}`);
      else if (!post && reply.status === 200)
        count(traffic.servedBy, (JSON.parse(text) as Whoami).instance.pid);
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      traffic.failures.push(`${label}: ${code ?? ''} ${message}`);
    }
  };
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let i = 0; !stopping; i++) {
      await one(client, i);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  });
  return {
    ...traffic,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      agent.destroy();
    },
  } satisfies MixedTraffic;
}
