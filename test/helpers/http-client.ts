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
  statuses: number[];
  /** The pid of the instance that answered each successful GET /whoami, in order. */
  servedBy: number[];
  /** servedBy as it was when `action` started. */
  servedBeforeAction: number[];
}

/**
 * Sends `clients` concurrent loops of `perClient` GET /whoami through `url`, each request on a
 * fresh connection, and runs `action` (stopping an instance) once `after` answers have arrived;
 * the loops keep going while it runs.
 */
export async function trafficDuring(
  url: string,
  action: () => Promise<unknown>,
  { clients = 4, perClient = 40, after = 20 } = {},
): Promise<TrafficResult> {
  const result: TrafficResult = { statuses: [], servedBy: [], servedBeforeAction: [] };
  let started: Promise<unknown> | undefined;
  const client = async (): Promise<void> => {
    for (let i = 0; i < perClient; i++) {
      const reply = await send(`${url}/whoami`);
      result.statuses.push(reply.status);
      if (reply.status === 200) {
        result.servedBy.push((JSON.parse(reply.body.toString()) as Whoami).instance.pid);
      }
      if (result.statuses.length >= after && !started) {
        result.servedBeforeAction = [...result.servedBy];
        started = action();
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  await started;
  if (!started) throw new Error('the action never ran');
  return result;
}
