import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { PackageManager } from './features/types.js';

export const packageManagers: readonly PackageManager[] = ['npm', 'pnpm', 'yarn'];

/** The package manager that launched us (`npm create`, `pnpm create`, `yarn create`), else npm. */
export function detectPackageManager(env: NodeJS.ProcessEnv = process.env): PackageManager {
  const agent = env.npm_config_user_agent ?? '';
  const name = agent.split('/')[0];
  return packageManagers.find((pm) => pm === name) ?? 'npm';
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
