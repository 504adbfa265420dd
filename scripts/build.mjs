// Bundles the CLI into dist/ with esbuild: one file loads faster than many (see `npm run bench`).
// Packages stay external (installed as dependencies); heavy ones are imported lazily in the code.
// Commander is the exception: every run (even --help) loads it, so it is bundled into cli.js
// (one file instead of seven; ~6 ms less CPU at start-up, measured with hyperfine).
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

/**
 * The CommonJS module standing for built-in `name` in the bundle: a getter per export (names
 * known at build time), so that a built-in loads on the first use of one of its exports, and
 * copying the exports (esbuild's ESM interop) never reads them: some, such as util.TextDecoder,
 * load more of Node on the first read.
 */
function builtinShim(name) {
  if (name === 'process') return 'module.exports = process;';
  const id = JSON.stringify(`node:${name}`);
  const names = Object.getOwnPropertyNames(require(`node:${name}`)).filter(
    (key) => key !== '__esModule',
  );
  return [
    `let loaded;`,
    `const load = () => (loaded ??= require(${id}));`,
    ...names.map(
      (key) =>
        `Object.defineProperty(exports, ${JSON.stringify(key)}, { enumerable: true, get: () => load()[${JSON.stringify(key)}] });`,
    ),
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
        build.onResolve({ filter: /^[a-z_/]+$|^node:/ }, ({ path, namespace }) => {
          const name = path.replace(/^node:/, '');
          if (!builtins.has(name)) return undefined;
          // The shim's own require() is the real one (see the banner).
          if (namespace === 'builtin') return { path, external: true };
          return { path: name, namespace: 'builtin' };
        });
        build.onLoad({ filter: /.*/, namespace: 'builtin' }, ({ path }) => ({
          contents: builtinShim(path),
          loader: 'js',
        }));
      },
    },
    {
      name: 'external-but-commander',
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, ({ path }) =>
          path === 'commander' ? undefined : { path, external: true },
        );
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
