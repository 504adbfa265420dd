import { isOnPath } from '../../src/pm.js';

/**
 * Whether a system binary a test needs (redis-server, nginx, haproxy) is here. Under CI=true a
 * missing binary fails the test instead of skipping it: .ci/run installs them.
 */
export function hasBinary(name: string): boolean {
  const found = isOnPath(name, { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` });
  if (!found && process.env.CI)
    throw new Error(`${name} is required under CI but is not installed (.ci/run installs it)`);
  return found;
}
