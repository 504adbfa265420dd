// Bundles the CLI into dist/ with esbuild: one file loads faster than many (see `npm run bench`).
// Packages stay external (installed as dependencies); heavy ones are imported lazily in the code.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  define: { __CLI_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
