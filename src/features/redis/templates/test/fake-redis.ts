import { createServer, type Socket } from 'node:net';

/**
 * A tiny Redis stand-in on a loopback port, for tests that need Redis to misbehave on demand:
 * `hang()` makes it stop answering while keeping connections open (like a Redis process that
 * was stopped), `resume()` answers everything that waited. It understands just enough RESP for
 * a cache: PING, GET (always a miss), SET; anything else gets +OK.
 */
export interface FakeRedis {
  url: string;
  /** Commands received so far, by name (PING, GET, SET, CLIENT...). */
  received: string[];
  hang(): void;
  resume(): void;
  close(): Promise<void>;
}

/** The commands complete in `buffer` (RESP arrays of bulk strings) and what is left over. */
function parse(buffer: string): { commands: string[][]; rest: string } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    const header = /^\*(\d+)\r\n/.exec(buffer.slice(at));
    if (!header) break;
    let pos = at + header[0].length;
    const args: string[] = [];
    for (let i = 0; i < Number(header[1]); i++) {
      const bulk = /^\$(\d+)\r\n/.exec(buffer.slice(pos));
      const length = Number(bulk?.[1]);
      if (!bulk || buffer.length < pos + bulk[0].length + length + 2)
        return { commands, rest: buffer.slice(at) };
      args.push(buffer.slice(pos + bulk[0].length, pos + bulk[0].length + length));
      pos += bulk[0].length + length + 2;
    }
    commands.push(args);
    at = pos;
  }
  return { commands, rest: buffer.slice(at) };
}

function reply(command: string[]): string {
  const name = command[0]?.toUpperCase();
  if (name === 'PING') return '+PONG\r\n';
  if (name === 'GET') return '$-1\r\n';
  return '+OK\r\n';
}

export async function startFakeRedis(): Promise<FakeRedis> {
  let hung = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const received: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    socket.on('data', (chunk) => {
      const { commands, rest } = parse(buffer + chunk.toString('latin1'));
      buffer = rest;
      for (const command of commands) {
        received.push(command[0]?.toUpperCase() ?? '');
        const answer = (): void => void socket.write(reply(command));
        if (hung) held.push(answer);
        else answer();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    received,
    hang: () => (hung = true),
    resume: () => {
      hung = false;
      for (const answer of held.splice(0)) answer();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
