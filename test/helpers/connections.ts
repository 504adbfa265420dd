import { execa } from 'execa';
import { Agent, request } from 'node:http';

/**
 * One client keep-alive connection: every request goes over the same socket, so under a cluster
 * they all reach the worker that accepted it. `localPort` names it in `ss` output.
 */
export class Connection {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  localPort: number | undefined;

  constructor(private readonly base: string) {}

  get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.base}${path}`, { agent: this.#agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.once('socket', (socket) => {
        const note = (): void => {
          this.localPort = socket.localPort;
        };
        if (socket.connecting) socket.once('connect', note);
        else note();
      });
      req.once('error', reject);
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Which process holds the server side of each established connection to `serverPort`, by the
 * client's port: under a cluster, the worker that serves that connection (read from `ss -p`).
 */
export async function connectionOwners(serverPort: number): Promise<Map<number, number>> {
  const { stdout } = await execa('ss', [
    '-tnpH',
    'state',
    'established',
    `( sport = :${serverPort} )`,
  ]);
  const owners = new Map<number, number>();
  for (const line of stdout.split('\n')) {
    const columns = line.trim().split(/\s+/);
    const peer = Number(columns[3]?.split(':').pop());
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (Number.isInteger(peer) && pid) owners.set(peer, Number(pid));
  }
  return owners;
}

/** The worker pid serving each connection (they must all have sent a request already). */
export async function workersOf(serverPort: number, connections: Connection[]): Promise<number[]> {
  const owners = await connectionOwners(serverPort);
  return connections.map((c) => {
    const pid = c.localPort === undefined ? undefined : owners.get(c.localPort);
    if (pid === undefined)
      throw new Error(`no server process found for client port ${c.localPort}`);
    return pid;
  });
}
