import { execa, type ResultPromise } from 'execa';
import { afterAll } from 'vitest';
import { freePort, waitForHttp } from './ports.js';

type Child = ResultPromise<{ all: true; reject: false; stdin: 'ignore' }>;

const running = new Set<Child>();
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await Promise.all([...running].map((c) => c.catch(() => undefined)));
});

export interface Running {
  port: number;
  url: string;
  pid: number;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM (or another signal) and wait for the exit; resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | undefined>;
}

/** Starts a long-running process; it is always killed when the test file ends. */
export function spawnTracked(
  file: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): { child: Child; output: () => string } {
  const child: Child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    all: true,
    reject: false,
    stdin: 'ignore',
    // execa's default SIGKILL 5 s after kill() would cut a graceful drain short (the app's own
    // deadline, SHUTDOWN_TIMEOUT_MS, is 10 s by default).
    forceKillAfterDelay: 15_000,
  });
  running.add(child);
  void child.finally(() => running.delete(child));
  let output = '';
  child.all.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/**
 * Boots a generated, built project the way production would (`node dist/main.js`, or the given
 * argv), on a free loopback port (or `env.PORT`: a restart on the same port), and waits for
 * /healthz.
 */
export async function startApp(
  dir: string,
  env: Record<string, string> = {},
  argv: string[] = ['dist/main.js'],
): Promise<Running> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const { child, output } = spawnTracked(process.execPath, argv, {
    cwd: dir,
    env: {
      NODE_ENV: 'production',
      // postgres needs DATABASE_URL in production: boot on its embedded PGlite (others ignore it).
      DATABASE_URL: 'pglite:memory',
      // queue needs REDIS_URL in production: jobs in process unless a test sets REDIS_URL.
      QUEUE_IN_PROCESS: 'true',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    // Fail at once if the process exits instead of answering (a config error, a crash).
    const exited = child.then((r) => {
      throw new Error(
        `the app exited with code ${r.exitCode ?? r.signal} before answering /healthz`,
      );
    });
    await Promise.race([waitForHttp(`${url}/healthz`), exited]);
    exited.catch(() => undefined);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${output()}`, { cause: error });
  }
  return {
    port,
    url,
    pid: child.pid!,
    output,
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      const result = await child;
      return result.exitCode;
    },
  };
}

/** Starts a real redis-server on a free loopback port, without persistence. */
export async function startRedis(port?: number): Promise<Running> {
  const chosen = port ?? (await freePort());
  const { child, output } = spawnTracked('redis-server', [
    '--port',
    String(chosen),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  const deadline = Date.now() + 10_000;
  while (!output().includes('Ready to accept connections')) {
    if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    pid: child.pid!,
    output,
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      return (await child).exitCode;
    },
  };
}
