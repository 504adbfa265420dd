import { execa } from 'execa';
import { chmod, cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { executeRecipe } from '../helpers/dockerfile.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The `standard` preset (plus docker, for its Dockerfile) with pnpm 10, the current pnpm, Yarn 1
 * and the current Yarn Berry: each installed from npm into a prefix of its own and put first on
 * PATH, as a user who has that version would run the CLI. Each must pass the full test-build
 * (install, build, typecheck, lint, test, boot), then the generated CI workflow's run steps in a
 * fresh checkout (no node_modules, nothing git ignores), then the Dockerfile's recipe.
 *
 * The installs are slow: the four run one after the other in this one file, and each package
 * manager's prefix is kept in the OS temp folder, keyed by its exact version, for the next run.
 */

const parent = tempDir('cse-pm-');
const NAME = 'svc';

interface Manager {
  label: string;
  pm: 'pnpm' | 'yarn';
  /** The npm package that ships it, and the version range to take. */
  pkg: string;
  range: string;
}

const managers: Manager[] = [
  { label: 'pnpm 10', pm: 'pnpm', pkg: 'pnpm', range: '10' },
  { label: 'pnpm current', pm: 'pnpm', pkg: 'pnpm', range: 'latest' },
  { label: 'Yarn 1', pm: 'yarn', pkg: 'yarn', range: '1' },
  { label: 'Yarn Berry current', pm: 'yarn', pkg: '@yarnpkg/cli-dist', range: 'latest' },
];

/** The runner's environment: no NODE_ENV or VITEST from this process (a runner has none). */
function cleanEnv(path: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, PATH: path };
  delete env.NODE_ENV;
  delete env.VITEST;
  delete env.npm_config_user_agent;
  return env;
}

/** The exact version `range` resolves to, installed (once per version) into a cached prefix. */
async function install(manager: Manager): Promise<{ version: string; bin: string }> {
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
async function corepackStub(): Promise<string> {
  const dir = join(parent, 'corepack-stub');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'corepack'), '#!/bin/sh\nexit 0\n');
  await chmod(join(dir, 'corepack'), 0o755);
  return dir;
}

/** What git would check out: everything but the ignored folders and files. */
async function checkout(project: string, to: string): Promise<void> {
  const ignored = /[/\\](node_modules|dist|coverage|\.yarn[/\\]install-state\.gz|\.pnp\.[^/\\]*)$/;
  await cp(project, to, {
    recursive: true,
    filter: (src) => !ignored.test(src.slice(project.length)),
  });
}

async function runSteps(dir: string): Promise<string[]> {
  const wf = parse(await readFile(join(dir, '.github', 'workflows', 'ci.yml'), 'utf8')) as {
    jobs: { test: { steps: { run?: string }[] } };
  };
  return wf.jobs.test.steps.flatMap((s) => (s.run ? [s.run] : []));
}

describe.each(managers)('$label', (manager) => {
  const root = join(parent, manager.label.replace(/\s+/g, '-'));
  let project = '';
  let path = '';
  let version = '';

  it('generates and verifies the standard preset: install, build, typecheck, lint, test, boot', async () => {
    const installed = await install(manager);
    version = installed.version;
    path = [installed.bin, await corepackStub(), process.env.PATH ?? ''].join(delimiter);
    await mkdir(root, { recursive: true });
    const result = await runCli(
      [
        NAME,
        '--preset',
        'standard',
        '--features',
        'docker',
        '--pm',
        manager.pm,
        '--yes',
        '--no-git',
      ],
      {
        cwd: root,
        env: { ...cleanEnv(path), npm_config_prefer_offline: 'true' },
        timeoutMs: 900_000,
      },
    );
    // --json is not used so that a failure shows the step's own output.
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    project = join(root, NAME);
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as {
      packageManager?: string;
    };
    expect(pkg.packageManager).toBe(`${manager.pm}@${version}`);
    const { stdout: running } = await execa(manager.pm, ['--version'], {
      cwd: project,
      env: cleanEnv(path),
      extendEnv: false,
    });
    expect(running.trim()).toBe(version);
    // What git would commit: the lockfile and settings, none of the install's output.
    await execa('git', ['init', '-q'], { cwd: project });
    const { stdout: added } = await execa('git', ['add', '--all', '--dry-run'], { cwd: project });
    expect(added).toMatch(/'(pnpm-lock\.yaml|yarn\.lock)'/);
    expect(added).not.toMatch(/'(node_modules|dist|\.yarn\/install-state\.gz|\.pnp\.)/);
  }, 900_000);

  it("the generated CI workflow's run steps pass in a fresh checkout", async () => {
    expect(project, 'generated by the previous test').not.toBe('');
    const fresh = join(root, 'checkout');
    await checkout(project, fresh);
    const steps = await runSteps(fresh);
    expect(steps).toContain(`${manager.pm} run typecheck`);
    for (const step of steps) {
      const result = await execa('sh', ['-c', step], {
        cwd: fresh,
        env: { ...cleanEnv(path), CI: 'true', npm_config_prefer_offline: 'true' },
        extendEnv: false,
        all: true,
        reject: false,
        stdin: 'ignore',
        timeout: 600_000,
      });
      expect(result.exitCode, `${step}:\n${String(result.all).slice(-3000)}`).toBe(0);
    }
  }, 900_000);

  it("the Dockerfile's recipe: frozen install, build, production install", async () => {
    expect(project, 'generated by the previous test').not.toBe('');
    const saved = process.env.PATH;
    process.env.PATH = path; // executeRecipe's RUN steps take the machine's PATH
    try {
      const image = await executeRecipe(project, join(root, 'image'));
      const runs = image.runs.map((r) => r.command);
      expect(runs).toContain(`${manager.pm} run build`);
      const has = (rel: string): Promise<boolean> =>
        stat(join(image.dir, rel)).then(
          () => true,
          () => false,
        );
      expect(await has('dist/main.js')).toBe(true);
      expect(await has('node_modules/express/package.json')).toBe(true);
      for (const dev of ['typescript', 'vitest', 'eslint'])
        expect(await has(`node_modules/${dev}`), dev).toBe(false);
    } finally {
      process.env.PATH = saved;
    }
  }, 900_000);
});
