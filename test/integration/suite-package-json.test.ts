import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectableFeatures } from '../../src/features/index.js';
import { runCli } from '../helpers/cli.js';
import { coveringSet } from '../helpers/suite-covering.js';
import { packageOf, undeclaredUses } from '../helpers/suite-imports.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Each generated package.json declares every package its project imports or preloads. The
 * matrix builds against one shared install of every feature's packages, where a missing
 * declaration would go unnoticed: this is the check that catches it, in seconds. Each feature
 * alone (nothing else declares its packages for it), the matrix's covering set and the presets.
 */
const parent = tempDir('cse-package-json-');
const projects: [string, string[]][] = [
  ...selectableFeatures.map((f): [string, string[]] => [`only-${f.id}`, ['--features', f.id]]),
  ...coveringSet().map((features, i): [string, string[]] => [
    `cover-${i + 1}`,
    ['--features', features.join(',')],
  ]),
  ...['minimal', 'standard', 'full'].map((p): [string, string[]] => [p, ['--preset', p]]),
];

describe('generated package.json files are complete', () => {
  it.each(projects)('%s declares every package it imports', async (name, args) => {
    const result = await runCli([name, ...args, '--yes', '--no-install', '--no-git'], {
      cwd: parent,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(undeclaredUses(join(parent, name))).toEqual([]);
  });

  it('names the package of a specifier, and ignores builtins and relative paths', () => {
    expect(packageOf('@eslint/js')).toBe('@eslint/js');
    expect(packageOf('vitest/config')).toBe('vitest');
    expect(packageOf('newrelic/esm-loader.mjs')).toBe('newrelic');
    expect(packageOf('@scope/pkg/sub/path.js')).toBe('@scope/pkg');
    expect(packageOf('node:http')).toBeUndefined();
    expect(packageOf('http')).toBeUndefined();
    expect(packageOf('./app.js')).toBeUndefined();
  });
});
