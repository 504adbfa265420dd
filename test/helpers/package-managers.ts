import { execa } from 'execa';
import { chmod, cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * pnpm and Yarn as a user who has that version runs them: installed from npm into a prefix of
 * its own (kept in the OS temp folder, keyed by the exact version, for the next run), put first
 * on PATH by the test.
 */

export interface Manager {
  label: string;
  pm: 'pnpm' | 'yarn';
  /** The npm package that ships it, and the version range to take. */
  pkg: string;
  range: string;
}

export const pnpmCurrent: Manager = {
  label: 'pnpm current',
  pm: 'pnpm',
  pkg: 'pnpm',
  range: 'latest',
};
/** The previous pnpm major, still in wide use (it warns where 11+ fail on unapproved builds). */
export const pnpm10: Manager = { label: 'pnpm 10', pm: 'pnpm', pkg: 'pnpm', range: '10' };
export const yarnBerryCurrent: Manager = {
  label: 'Yarn Berry current',
  pm: 'yarn',
  pkg: '@yarnpkg/cli-dist',
  range: 'latest',
};

/** The runner's environment: no NODE_ENV or VITEST from this process (a runner has none). */
export function cleanEnv(path: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, PATH: path };
  delete env.NODE_ENV;
  delete env.VITEST;
  delete env.npm_config_user_agent;
  return env;
}

/** The exact version `range` resolves to, installed (once per version) into a cached prefix. */
export async function installManager(manager: Manager): Promise<{ version: string; bin: string }> {
  const { stdout } = await execa('npm', [
    'view',
    `${manager.pkg}@${manager.range}`,
    'version',
    '--json',
  ]);
  // One version, or a list (in no useful order) when a range matches several: take the newest.
  const listed = JSON.parse(stdout) as string | string[];
  const numeric = (v: string): number[] => v.split('.').map(Number);
  const newest = (a: string, b: string): string => {
    const [x, y] = [numeric(a), numeric(b)];
    const i = x.findIndex((part, k) => part !== y[k]);
    return i === -1 || (x[i] ?? 0) > (y[i] ?? 0) ? a : b;
  };
  const version = (Array.isArray(listed) ? listed : [listed]).reduce(newest);
  const prefix = join(tmpdir(), 'cse-pm-cache', `${manager.pkg.replace('/', '+')}@${version}`);
  const bin = join(prefix, 'node_modules', '.bin');
  const ready = await stat(join(bin, manager.pm)).then(
    () => true,
    () => false,
  );
  if (!ready) {
    await mkdir(prefix, { recursive: true });
    await execa('npm', ['install', '--prefix', prefix, `${manager.pkg}@${version}`, '--no-audit'], {
      env: { npm_config_prefer_offline: 'true' },
    });
  }
  return { version, bin };
}

/**
 * A folder with a `corepack` that does nothing. In CI and in the image, corepack provides the
 * version of package.json's packageManager field; here that exact version is already first on
 * PATH (each test checks the field against it), and a real `corepack enable` would rewrite this
 * machine's Node installation.
 */
export async function corepackStub(parent: string): Promise<string> {
  const dir = join(parent, 'corepack-stub');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'corepack'), '#!/bin/sh\nexit 0\n');
  await chmod(join(dir, 'corepack'), 0o755);
  return dir;
}

/** What git would check out: everything but the ignored folders and files. */
export async function checkout(project: string, to: string): Promise<void> {
  const ignored = /[/\\](node_modules|dist|coverage|\.yarn[/\\]install-state\.gz|\.pnp\.[^/\\]*)$/;
  await cp(project, to, {
    recursive: true,
    filter: (src) => !ignored.test(src.slice(project.length)),
  });
}

/** The `run:` steps of the project's CI workflow, in order. */
export async function workflowRunSteps(dir: string): Promise<string[]> {
  const wf = parse(await readFile(join(dir, '.github', 'workflows', 'ci.yml'), 'utf8')) as {
    jobs: { test: { steps: { run?: string }[] } };
  };
  return wf.jobs.test.steps.flatMap((s) => (s.run ? [s.run] : []));
}
