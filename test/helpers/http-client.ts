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
