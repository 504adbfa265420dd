import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * System binaries the tests drive (redis-server, nginx, haproxy, kubectl, postgres...). Name each
 * with hasBinary('<name>') or binaryPath('<name>'): .ci/run reads those names from test/ and
 * installs the Debian package for each, so a new binary only needs a line in its table.
 */

/** Folders searched besides PATH: sbin, and PostgreSQL's, which Debian keeps off PATH. */
function extraDirs(): string[] {
  const pg = '/usr/lib/postgresql';
  const versions = existsSync(pg)
    ? readdirSync(pg)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return ['/usr/sbin', '/sbin', ...versions.map((v) => join(pg, v, 'bin'))];
}

/** The absolute path of a binary, or undefined. Under CI=true a missing binary is an error. */
export function binaryPath(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extraDirs()]) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // keep looking
    }
  }
  if (process.env.CI)
    throw new Error(`${name} is required under CI but is not installed (.ci/run installs it)`);
  return undefined;
}

/** Whether a binary is here (tests skip without it locally; under CI=true they fail). */
export function hasBinary(name: string): boolean {
  return binaryPath(name) !== undefined;
}
