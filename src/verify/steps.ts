import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { FailedError, InterruptedError } from '../errors.js';
import type { PackageManager } from '../features/types.js';
import { packageManagerCommands } from '../pm.js';
import type { Output } from '../ui/output.js';
import { featureBootEnv } from './boot-env.js';

export type StepName = 'install' | 'build' | 'typecheck' | 'lint' | 'test' | 'boot';

export interface StepResult {
  name: StepName;
  command: string;
  status: 'passed' | 'failed';
  durationMs: number;
}

export interface VerifyOptions {
  directory: string;
  packageManager: PackageManager;
  install: boolean;
  verify: boolean;
  verbose: boolean;
  /** Boot the built app and check its health (default true; a library package has no server). */
  boot?: boolean;
  out: Output;
  /** Throws when the user pressed Ctrl-C. */
  checkpoint: () => void;
  /** Aborted on Ctrl-C: the running step's whole process group is killed at once. */
  signal?: AbortSignal;
  /** Filled as steps finish, so a failure still reports the steps before it. */
  results: StepResult[];
}

const TAIL_LINES = 40;
const BOOT_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Environment for the project's own commands: a parent NODE_ENV=production would skip devDependencies. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!extra.NODE_ENV) delete env.NODE_ENV;
  return env;
}

function tail(text: string): string[] {
  return text.trimEnd().split('\n').slice(-TAIL_LINES);
}

/** The version in package.json's `packageManager` field (`pnpm@10.34.8` → 10.34.8), if any. */
async function recordedVersion(directory: string): Promise<string | undefined> {
  const text = await readFile(join(directory, 'package.json'), 'utf8').catch(() => '{}');
  const field = (JSON.parse(text) as { packageManager?: unknown }).packageManager;
  return typeof field === 'string' ? field.split('@')[1] : undefined;
}

/**
 * The test-build: install → build → typecheck → lint → test → boot. Proves the generated project
 * works before the user gets it. A failing step throws FailedError naming the step, the end of
 * its output and the command that reproduces it; the files stay.
 */
export async function runSteps(options: VerifyOptions): Promise<StepResult[]> {
  const { packageManager: pm } = options;
  // Nothing to run (--no-install): not even package.json to read (loading fs/promises ~2 ms).
  if (!options.install && !options.verify) return options.results;
  const commands = packageManagerCommands(pm, await recordedVersion(options.directory));
  const steps: { name: StepName; label: string; args: string[] }[] = [];
  if (options.install)
    steps.push({ name: 'install', label: 'Installing dependencies', args: commands.install });
  if (options.verify) {
    steps.push(
      { name: 'build', label: 'Building', args: ['run', 'build'] },
      // The build compiles src/ only; this checks the tests and config files too.
      { name: 'typecheck', label: 'Type-checking', args: ['run', 'typecheck'] },
      { name: 'lint', label: 'Linting', args: ['run', 'lint'] },
      { name: 'test', label: 'Running the tests', args: ['run', 'test'] },
    );
  }
  for (const step of steps) {
    const command = `${pm} ${step.args.join(' ')}`;
    await timed(options, step.name, command, step.label, () =>
      runCommand(options, pm, step.args, command),
    );
  }
  if (options.verify && options.boot !== false) {
    await timed(
      options,
      'boot',
      'node dist/main.js',
      'Booting and checking /healthz and /readyz',
      () => boot(options),
    );
  }
  return options.results;
}

async function timed(
  options: VerifyOptions,
  name: StepName,
  command: string,
  label: string,
  run: () => Promise<void>,
): Promise<void> {
  options.checkpoint();
  const started = performance.now();
  try {
    await options.out.step(label, run);
    options.results.push({
      name,
      command,
      status: 'passed',
      durationMs: Math.round(performance.now() - started),
    });
  } catch (error) {
    options.results.push({
      name,
      command,
      status: 'failed',
      durationMs: Math.round(performance.now() - started),
    });
    options.checkpoint();
    throw error;
  }
}

/**
 * Steps run in their own process group (`detached`), so that on Ctrl-C the package manager and
 * everything it started (install scripts, the test runner's workers) go at once; a terminal's
 * Ctrl-C reaches only the CLI, which decides.
 */
function killGroupOnAbort(pid: number | undefined, signal: AbortSignal | undefined): () => void {
  if (!signal || pid === undefined) return () => undefined;
  const kill = (): void => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  if (signal.aborted) kill();
  signal.addEventListener('abort', kill, { once: true });
  return () => signal.removeEventListener('abort', kill);
}

async function runCommand(
  options: VerifyOptions,
  file: string,
  args: string[],
  command: string,
): Promise<void> {
  const { execa } = await import('execa');
  const subprocess = execa(file, args, {
    cwd: options.directory,
    env: childEnv(),
    extendEnv: false,
    all: true,
    reject: false,
    stdin: 'ignore',
    detached: Boolean(options.signal),
    ...(options.verbose ? { stdout: ['pipe', 'inherit'], stderr: ['pipe', 'inherit'] } : {}),
  });
  const release = killGroupOnAbort(subprocess.pid, options.signal);
  const result = await subprocess;
  release();
  if (options.signal?.aborted) throw new InterruptedError();
  if (result.failed) {
    const why =
      result.code === 'ENOENT'
        ? `${file} is not installed or not on PATH`
        : `exit code ${result.exitCode ?? result.signal}`;
    throw new FailedError(`"${command}" failed (${why}).`, [
      ...tail(String(result.all ?? '')),
      '',
      `Reproduce: cd ${options.directory} && ${command}`,
    ]);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The start script as an argv, so the server gets our signals directly (no npm in between). */
async function startCommand(directory: string): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(directory, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const start = pkg.scripts?.start ?? 'node dist/main.js';
  const argv = start.trim().split(/\s+/);
  if (argv[0] !== 'node')
    throw new FailedError(`The start script must run node directly, got "${start}".`);
  return argv;
}

async function boot(options: VerifyOptions): Promise<void> {
  const { execa } = await import('execa');
  const port = await freePort();
  const [, ...args] = await startCommand(options.directory);
  const featureEnv = await featureBootEnv(options.directory);
  const reproduceEnv = Object.entries(featureEnv)
    .map(([name, value]) => `${name}=${value} `)
    .join('');
  const child = execa(process.execPath, args, {
    cwd: options.directory,
    env: childEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      WEB_CONCURRENCY: '2',
      ...featureEnv,
    }),
    extendEnv: false,
    all: true,
    reject: false,
    stdin: 'ignore',
    detached: Boolean(options.signal),
  });
  const release = killGroupOnAbort(child.pid, options.signal);
  void child.finally(release);
  let exit: { exitCode?: number; signal?: string } | undefined;
  void child.then((r) => (exit = r));
  let output = '';
  child.all?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (options.verbose) process.stderr.write(chunk);
  });
  const fail = (message: string): FailedError =>
    new FailedError(message, [
      ...tail(output),
      '',
      `Reproduce: cd ${options.directory} && ${options.packageManager} run build && PORT=${port} NODE_ENV=production ${reproduceEnv}node ${args.join(' ')}`,
    ]);
  try {
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    for (;;) {
      if (exit)
        throw fail(
          `The server exited during start-up (exit code ${exit.exitCode ?? exit.signal}).`,
        );
      const res = await fetch(`${base}/healthz`).catch(() => undefined);
      if (res?.status === 200) break;
      if (Date.now() > deadline)
        throw fail(`The server did not answer GET /healthz within ${BOOT_TIMEOUT_MS / 1000}s.`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    // Ready may come a little after alive (a check still warming up, a busy machine shedding
    // load for a moment): wait for it until the same deadline.
    for (;;) {
      const ready = await fetch(`${base}/readyz`);
      if (ready.status === 200) break;
      const body = await ready.text();
      if (exit || Date.now() > deadline)
        throw fail(`GET /readyz answered ${ready.status}: ${body}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const result = await child;
    clearTimeout(timer);
    if (result.exitCode !== 0) {
      throw fail(
        `After SIGTERM the server did not exit cleanly within ${STOP_TIMEOUT_MS / 1000}s (exit code ${result.exitCode ?? result.signal}).`,
      );
    }
  } finally {
    if (!exit) {
      child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
  }
}
