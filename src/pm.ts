import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { PackageManager } from './features/types.js';

export const packageManagers: readonly PackageManager[] = ['npm', 'pnpm', 'yarn'];

/**
 * The version a project records when the chosen package manager is not installed here
 * (`--no-install`): the current release of each when this CLI was released. npm has none: it
 * comes with Node and needs no corepack.
 */
export const fallbackVersions: Readonly<Record<PackageManager, string | undefined>> = {
  npm: undefined,
  pnpm: '12.21.0',
  yarn: '4.18.1',
};

const SEMVER = /^\d+\.\d+\.\d+(?:-[\w.]+)?$/;

/** The package manager that launched us (`npm create`, `pnpm create`, `yarn create`), else npm. */
export function detectPackageManager(env: NodeJS.ProcessEnv = process.env): PackageManager {
  const agent = env.npm_config_user_agent ?? '';
  const name = agent.split('/')[0];
  return packageManagers.find((pm) => pm === name) ?? 'npm';
}

/**
 * The exact version of `pm` this run uses: from npm_config_user_agent when `pm` launched us,
 * else from the package the executable on PATH belongs to, else from `pm --version` (run in the
 * temp folder, away from any project's `packageManager` field), else the fallback. A project
 * records it in `packageManager`.
 */
export function detectPackageManagerVersion(
  pm: PackageManager,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const [agentName, agentVersion] =
    (env.npm_config_user_agent ?? '').split(' ')[0]?.split('/') ?? [];
  if (agentName === pm && agentVersion && SEMVER.test(agentVersion)) return agentVersion;
  const executable = findOnPath(pm, env);
  if (executable) {
    const installed = installedVersion(pm, executable);
    if (installed) return installed;
    try {
      const out = execFileSync(pm, ['--version'], {
        cwd: tmpdir(),
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 30_000,
      }).trim();
      if (SEMVER.test(out)) return out;
    } catch {
      // not answering: use the fallback
    }
  }
  return fallbackVersions[pm];
}

/** Package names whose version is the version of `pm` they install (its bin links into them). */
const packageNames: Readonly<Record<PackageManager, readonly string[]>> = {
  npm: ['npm'],
  pnpm: ['pnpm', '@pnpm/exe'],
  // Yarn 1 may hand over to another version (`yarn-path` in ~/.yarnrc): only `--version` knows.
  yarn: [],
};

/**
 * The version in the package.json next to the file `executable` links to, when that package is
 * `pm` itself (npm's and pnpm's bin entries are symlinks into their package): no process to
 * start, which is most of the time of a `create` without install (npm takes ~0.2 s to answer).
 */
function installedVersion(pm: PackageManager, executable: string): string | undefined {
  try {
    let dir = dirname(realpathSync(executable));
    for (let up = 0; up < 3; up++, dir = dirname(dir)) {
      let text: string;
      try {
        text = readFileSync(join(dir, 'package.json'), 'utf8');
      } catch {
        continue;
      }
      const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
      const ours = typeof pkg.name === 'string' && packageNames[pm].includes(pkg.name);
      return ours && typeof pkg.version === 'string' && SEMVER.test(pkg.version)
        ? pkg.version
        : undefined;
    }
  } catch {
    // unreadable: ask the package manager instead
  }
  return undefined;
}

/** Yarn 2 and later ("Berry"): other commands and files than Yarn 1. */
export function isYarnBerry(pm: PackageManager, version: string | undefined): boolean {
  const major = Number((version ?? fallbackVersions[pm])?.split('.')[0]);
  return pm === 'yarn' && major >= 2;
}

/** How a project's package manager is driven: by the test-build, CI and the Dockerfile. */
export interface PackageManagerCommands {
  /** The exact version the project records (the fallback when none was detected). */
  version: string | undefined;
  /** Its major version, 0 when unknown. */
  major: number;
  lockfile: string;
  /** The first install, which writes the lockfile (CI=true must not turn it read-only). */
  install: string[];
  /** Exactly the lockfile's versions; fails when the lockfile is out of date. */
  frozenInstall: string;
  /** Production dependencies only, exactly as locked. */
  productionInstall: string;
  run: (script: string) => string;
  /** Files the package manager reads besides package.json and the lockfile. */
  configFiles: string[];
}

export function packageManagerCommands(
  pm: PackageManager,
  version: string | undefined,
): PackageManagerCommands {
  const run = (script: string): string => `${pm} run ${script}`;
  const exact = version ?? fallbackVersions[pm];
  const known = { version: exact, major: Number(exact?.split('.')[0] ?? 0) };
  if (pm === 'pnpm') {
    return {
      ...known,
      lockfile: 'pnpm-lock.yaml',
      // pnpm makes the lockfile frozen by default under CI.
      install: ['install', '--no-frozen-lockfile'],
      frozenInstall: 'pnpm install --frozen-lockfile',
      productionInstall: 'pnpm install --frozen-lockfile --prod',
      run,
      configFiles: ['pnpm-workspace.yaml'],
    };
  }
  if (pm === 'yarn' && isYarnBerry(pm, version)) {
    return {
      ...known,
      lockfile: 'yarn.lock',
      // Yarn Berry makes installs immutable by default under CI.
      install: ['install', '--no-immutable'],
      frozenInstall: 'yarn install --immutable',
      productionInstall: 'yarn workspaces focus --production',
      run,
      configFiles: ['.yarnrc.yml'],
    };
  }
  if (pm === 'yarn') {
    return {
      ...known,
      lockfile: 'yarn.lock',
      install: ['install'],
      frozenInstall: 'yarn install --frozen-lockfile',
      productionInstall: 'yarn install --frozen-lockfile --production',
      run,
      configFiles: [],
    };
  }
  return {
    ...known,
    lockfile: 'package-lock.json',
    install: ['install'],
    frozenInstall: 'npm ci',
    productionInstall: 'npm ci --omit=dev',
    run,
    configFiles: [],
  };
}

/** Whether an executable is on PATH. */
export function isOnPath(command: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return findOnPath(command, env) !== undefined;
}

/** The first executable named `command` on PATH. */
function findOnPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // keep looking
    }
  }
  return undefined;
}
