/**
 * The install-and-verify path of `create`, driven through the built CLI with a stand-in `npm`
 * first on PATH (a shell script): it fails or hangs at the step a test names, so each verify
 * failure, Ctrl-C and --verbose are checked in seconds, without the registry.
 */
import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const root = tempDir('cse-verify-');
const bin = join(root, 'bin');
mkdirSync(bin);
// FAKE_FAIL=<step> fails that step; FAKE_HANG=<step> starts a grandchild that would sleep for
// five minutes, records its pid in FAKE_PIDS, and waits for it (like npm waiting for a script).
writeFileSync(
  join(bin, 'npm'),
  `#!/bin/sh
step="$1"; [ "$1" = run ] && step="$2"
case "$step" in --version|-v) echo 10.9.0; exit 0;; esac
echo "FAKE-$step-OUTPUT"
if [ "$FAKE_HANG" = "$step" ]; then
  sleep 300 & echo $! >> "$FAKE_PIDS"; echo $$ >> "$FAKE_PIDS"; wait; exit 0
fi
if [ "$FAKE_FAIL" = "$step" ]; then echo "boom in $step" >&2; exit 1; fi
exit 0
`,
);
chmodSync(join(bin, 'npm'), 0o755);

const PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`;
let counter = 0;

interface Doc {
  ok: boolean;
  steps: { name: string; status: string }[];
  error?: { message: string; exitCode: number };
}

/** Running, that is: a killed orphan may stay a zombie when pid 1 does not reap (containers). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false; // reaped between the two looks
  }
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** A killed process may take a moment to be gone on a busy machine: poll, bounded. */
async function expectGone(pid: number, label: string): Promise<void> {
  await expect.poll(() => alive(pid), { message: label, timeout: 5_000, interval: 50 }).toBe(false);
}

describe('a verify failure names the step, exits 1, keeps the files, says how to reproduce', () => {
  it.each(['build', 'typecheck', 'lint', 'test'])('at %s', async (step) => {
    const name = `fail-${step}`;
    const result = await runCli([name, '--no-git', '--json'], {
      cwd: root,
      env: { PATH, FAKE_FAIL: step },
    });
    expect(result.exitCode, result.stderr).toBe(1);
    const doc = JSON.parse(result.stdout) as Doc;
    expect(doc.ok).toBe(false);
    expect(doc.steps.at(-1)).toMatchObject({ name: step, status: 'failed' });
    expect(doc.steps.slice(0, -1).every((s) => s.status === 'passed')).toBe(true);
    expect(doc.error!.message).toContain(`"npm run ${step}" failed`);
    expect(result.stderr).toContain(`boom in ${step}`);
    expect(result.stderr).toContain(`Reproduce: cd ${join(root, name)} && npm run ${step}`);
    expect(existsSync(join(root, name, 'package.json'))).toBe(true);
  });

  it('at boot (the build made no dist/main.js, so the server exits)', async () => {
    const result = await runCli(['fail-boot', '--no-git', '--json'], { cwd: root, env: { PATH } });
    expect(result.exitCode, result.stderr).toBe(1);
    const doc = JSON.parse(result.stdout) as Doc;
    expect(doc.steps.at(-1)).toMatchObject({ name: 'boot', status: 'failed' });
    expect(doc.error!.message).toMatch(/server exited during start-up/);
    expect(result.stderr).toMatch(/Reproduce: cd .*fail-boot && npm run build && PORT=\d+/);
    expect(existsSync(join(root, 'fail-boot', 'src', 'main.ts'))).toBe(true);
  });
});

describe('--verbose', () => {
  it("streams each step's output; without it only a failure's tail is shown", async () => {
    const quiet = await runCli(['quiet', '--no-git'], { cwd: root, env: { PATH } });
    const loud = await runCli(['loud', '--no-git', '--verbose'], { cwd: root, env: { PATH } });
    // Both fail at boot (no dist/main.js); only --verbose shows the steps that passed.
    expect(quiet.exitCode).toBe(1);
    expect(loud.exitCode).toBe(1);
    expect(`${quiet.stdout}${quiet.stderr}`).not.toContain('FAKE-lint-OUTPUT');
    for (const step of ['install', 'build', 'typecheck', 'lint', 'test']) {
      expect(`${loud.stdout}${loud.stderr}`).toContain(`FAKE-${step}-OUTPUT`);
    }
  });
});

describe('Ctrl-C during install or verify', () => {
  it.each(['install', 'test'])(
    'during %s: the step and its children are killed at once, exit 130, and a re-run says how to go on',
    async (step) => {
      const name = `interrupted-${step}-${++counter}`;
      const pids = join(root, `${name}.pids`);
      writeFileSync(pids, '');
      const child = execa(process.execPath, [BIN, name, '--no-git'], {
        cwd: root,
        env: { ...process.env, PATH, NO_COLOR: '1', FAKE_HANG: step, FAKE_PIDS: pids },
        reject: false,
        stdin: 'ignore',
      });
      let exited = false;
      void child.finally(() => (exited = true));
      // Event-based: wait until the stand-in npm and its grandchild are running.
      while (readFileSync(pids, 'utf8').trim().split('\n').length < 2) {
        if (exited) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const started = Date.now();
      child.kill('SIGINT');
      const result = await child;
      // The hanging step would take 300 s; a generous bound for a loaded 2-core machine.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(result.exitCode, String(result.stderr)).toBe(130);
      expect(String(result.stderr)).toMatch(/To finish: cd .* && npm install/);
      for (const pid of readFileSync(pids, 'utf8').trim().split('\n').map(Number)) {
        await expectGone(pid, `pid ${pid} of the ${step} step`);
      }
      expect(existsSync(join(root, name, 'package.json'))).toBe(true);

      const again = await runCli([name, '--no-install', '--no-git'], { cwd: root, env: { PATH } });
      expect(again.exitCode).toBe(2);
      expect(again.stderr).toMatch(new RegExp(`cd ${name} && npm install`));
      expect(again.stderr).toMatch(/remove the folder or re-run with --force/);
      const forced = await runCli([name, '--no-install', '--no-git', '--force'], {
        cwd: root,
        env: { PATH },
      });
      expect(forced.exitCode, forced.stderr).toBe(0);
    },
  );
});

describe('Ctrl-C during the install that follows add', () => {
  it('kills the step at once, exits 130 and says how to undo', async () => {
    const name = `interrupted-add-${++counter}`;
    const made = await runCli([name, '--no-install', '--no-git'], { cwd: root, env: { PATH } });
    expect(made.exitCode, made.stderr).toBe(0);
    const pids = join(root, `${name}.pids`);
    writeFileSync(pids, '');
    const child = execa(process.execPath, [BIN, 'add', 'redis'], {
      cwd: join(root, name),
      env: { ...process.env, PATH, NO_COLOR: '1', FAKE_HANG: 'install', FAKE_PIDS: pids },
      reject: false,
      stdin: 'ignore',
    });
    let exited = false;
    void child.finally(() => (exited = true));
    while (readFileSync(pids, 'utf8').trim().split('\n').length < 2) {
      if (exited) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(130);
    expect(String(result.stderr)).toContain('undo with: create-scalable-express remove redis');
    for (const pid of readFileSync(pids, 'utf8').trim().split('\n').map(Number)) {
      await expectGone(pid, `pid ${pid} of the install step`);
    }
  });
});
