#!/usr/bin/env node
// Thin launcher: checks the Node.js version, then runs the CLI bundled into dist/ by
// `npm run build` (which `prepare` runs on install).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `create-scalable-express needs Node.js 22 or newer; this is Node.js ${process.versions.node}.\n`,
  );
  process.exit(1);
}
// Cache V8's compiled code between runs (Node >= 22.1): start-up is most of a CLI's time.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
await import('../dist/cli.js');
