// Bundles the CLI into dist/ with esbuild: one file loads faster than many (see `npm run bench`).
// Packages are bundled too, each into the chunk of the command that imports it (code splitting:
// --help loads commander and nothing else). Loaded from node_modules, yaml alone is ~60 files and
// ~40 ms of CPU, bundled ~12 ms: a full-preset `create` (no install) 390 → 200 ms of CPU with
// the pm version change (src/pm.ts).
// Node's built-ins are loaded with require() when first used, not with `import`: importing one
// as ESM builds a facade that reads every export (fs's streams, util's TextDecoder…: ~8 ms of
// CPU for the five commander imports), and commander imports child_process for executable
// subcommands, which we do not use (~3 ms). Found with --cpu-prof, measured on --help.
// `--watch` (npm run dev) rebuilds on every change, so `node bin/create-scalable-express.js`
// always runs the current sources.
import { build, context } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');
const require = createRequire(import.meta.url);
const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_')));

/** Built-ins whose exports load more of Node when read (util.TextDecoder), or that start-up never
 * uses (child_process: commander's executable subcommands): a getter per export. */
const LAZY_BUILTINS = new Set(['child_process', 'util']);

/**
 * The CommonJS module standing for built-in `name` in the bundle. Lazy ones get a getter per
 * export (names known at build time), so that esbuild's ESM interop, which copies the exports,
 * never reads them.
 */
function builtinShim(name) {
  if (name === 'process') return 'module.exports = process;';
  const id = JSON.stringify(`node:${name}`);
  if (!LAZY_BUILTINS.has(name)) return `module.exports = require(${id});`;
  const names = Object.getOwnPropertyNames(require(`node:${name}`)).filter(
    (key) => key !== '__esModule',
  );
  return [
    `let loaded;`,
    `const load = () => (loaded ??= require(${id}));`,
    `for (const key of ${JSON.stringify(names.join(','))}.split(','))`,
    `  Object.defineProperty(exports, key, { enumerable: true, get: () => load()[key] });`,
  ].join('\n');
}

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
const options = {
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  plugins: [
    {
      name: 'builtins-by-require',
      setup(build) {
        build.onResolve({ filter: /^[a-z_/]+$|^node:/ }, ({ path, namespace, importer }) => {
          const name = path.replace(/^node:/, '');
          if (!builtins.has(name)) return undefined;
          // The shim's own require() is the real one (see the banner).
          if (namespace === 'builtin') return { path, external: true };
          // One shim per importing file: a shim shared by several would become a chunk of its
          // own, and --help would load a dozen files instead of a few.
          return { path: `${name}?${importer}`, namespace: 'builtin' };
        });
        build.onLoad({ filter: /.*/, namespace: 'builtin' }, ({ path }) => ({
          contents: builtinShim(path.split('?')[0]),
          loader: 'js',
        }));
      },
    },
  ],
  // The require() of the built-in shims above.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  define: { __CLI_VERSION__: JSON.stringify(pkg.version) },
  logLevel: watch ? 'info' : 'warning',
};
if (watch) {
  const ctx = await context(options);
  await ctx.watch();
  process.stderr.write(
    'Watching src/ (Ctrl-C to stop); run: node bin/create-scalable-express.js\n',
  );
} else {
  await build(options);
}
