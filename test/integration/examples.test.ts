/**
 * The example routes are the user's from the start: `create` writes src/routes/examples.ts and
 * its test with the chosen features' examples; `add` and `remove` never touch them (no conflict
 * when the user edited or deleted them) and the manifest does not record them.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const parent = tempDir('cse-examples-');

function manifestFiles(dir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(dir, '.scalable-express.json'), 'utf8')) as {
    files: Record<string, string>;
  };
  return Object.keys(manifest.files);
}

describe('example routes', () => {
  it('create writes them with its features; add and remove leave them alone', async () => {
    const created = await runCli(
      ['shop', '--features', 'static', '--yes', '--no-install', '--no-git'],
      { cwd: parent },
    );
    expect(created.exitCode, created.stderr).toBe(0);
    const dir = join(parent, 'shop');
    const examples = join(dir, 'src/routes/examples.ts');
    expect(readFileSync(examples, 'utf8')).toContain("router.get('/example'");
    expect(readFileSync(join(dir, 'src/features/static.ts'), 'utf8')).not.toContain('/example');
    expect(manifestFiles(dir)).not.toContain('src/routes/examples.ts');
    expect(manifestFiles(dir)).not.toContain('test/examples.test.ts');

    // The user trims the examples and deletes their test.
    writeFileSync(examples, '// mine\n');
    rmSync(join(dir, 'test/examples.test.ts'));

    const grow = (command: string, id: string) =>
      runCli([command, id, '--cwd', dir, '--no-install', '--json'], { cwd: parent });
    for (const [command, id] of [
      ['add', 'winston'],
      ['remove', 'static'],
      ['add', 'static'],
    ] as const) {
      const result = await grow(command, id);
      expect(result.exitCode, `${command} ${id}: ${result.stdout}${result.stderr}`).toBe(0);
      const doc = JSON.parse(result.stdout) as { conflicts: string[]; files: { path: string }[] };
      expect(doc.conflicts).toEqual([]);
      expect(doc.files.map((f) => f.path)).not.toContain('src/routes/examples.ts');
      expect(readFileSync(examples, 'utf8')).toBe('// mine\n');
      expect(existsSync(join(dir, 'test/examples.test.ts'))).toBe(false);
      expect(manifestFiles(dir)).not.toContain('src/routes/examples.ts');
    }
  });
});
