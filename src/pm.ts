import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
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
 * else from `pm --version` on PATH (run in the temp folder, away from any project's
 * `packageManager` field), else the fallback. A project records it in `packageManager`.
 */
export function detectPackageManagerVersion(
  pm: PackageManager,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const [agentName, agentVersion] =
    (env.npm_config_user_agent ?? '').split(' ')[0]?.split('/') ?? [];
  if (agentName === pm && agentVersion && SEMVER.test(agentVersion)) return agentVersion;
  if (isOnPath(pm, env)) {
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
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}
