import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

/** `create-scalable-express --help | head -1`: the reader closes the pipe after its first line. */
it('--help into a reader that stops early exits 0 with nothing on stderr', async () => {
  const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Close our end at once, before the CLI writes: its writes then fail with EPIPE.
  child.stdout.destroy();
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (...ended) => resolve(ended)),
  );
  // All three at once, so that a failure shows how the process ended and what it said.
  expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
});
