import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Everything the CLI tells a person. With --json, human output goes to stderr so that stdout
 * carries only the JSON document. Colors follow NO_COLOR / FORCE_COLOR and the terminal.
 */
export interface Output {
  readonly color: ChalkInstance;
  readonly interactive: boolean;
  line(text?: string): void;
  info(text: string): void;
  success(text: string): void;
  warn(text: string): void;
  /** Runs a long step with a spinner (on a terminal) or start/end lines, showing its duration. */
  step<T>(label: string, run: () => Promise<T>): Promise<T>;
}

export function colorLevel(
  stream: NodeJS.WriteStream,
  env: NodeJS.ProcessEnv = process.env,
): 0 | 1 {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return 1;
  if (env.NO_COLOR || env.FORCE_COLOR === '0' || env.TERM === 'dumb') return 0;
  return stream.isTTY ? 1 : 0;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createOutput(options: { json: boolean; quiet?: boolean }): Output {
  const stream = options.json ? process.stderr : process.stdout;
  const color = new Chalk({ level: colorLevel(stream) });
  const interactive = Boolean(stream.isTTY) && !process.env.CI;
  const write = (text: string): void => {
    if (!options.quiet) stream.write(`${text}\n`);
  };
  return {
    color,
    interactive,
    line: (text = '') => write(text),
    info: (text) => write(text),
    success: (text) => write(`${color.green('✔')} ${text}`),
    warn: (text) => write(`${color.yellow('!')} ${text}`),
    async step(label, run) {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      if (interactive && !options.quiet) {
        let frame = 0;
        const draw = (): void => {
          stream.write(
            `\r${color.cyan(FRAMES[frame++ % FRAMES.length])} ${label} ${color.dim(formatDuration(performance.now() - started))}\x1b[K`,
          );
        };
        draw();
        timer = setInterval(draw, 100);
      } else {
        write(`… ${label}`);
      }
      const clear = (): void => {
        if (timer) {
          clearInterval(timer);
          stream.write('\r\x1b[K');
        }
      };
      try {
        const result = await run();
        clear();
        write(
          `${color.green('✔')} ${label} ${color.dim(`(${formatDuration(performance.now() - started)})`)}`,
        );
        return result;
      } catch (error) {
        clear();
        write(
          `${color.red('✖')} ${label} ${color.dim(`(${formatDuration(performance.now() - started)})`)}`,
        );
        throw error;
      }
    },
  };
}
