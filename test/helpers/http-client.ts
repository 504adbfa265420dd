import { request } from 'node:http';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * One HTTP/1.1 request with exactly the given headers, on a fresh connection; the body comes back
 * as sent (fetch would add headers such as Accept-Encoding and decompress).
 */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
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
