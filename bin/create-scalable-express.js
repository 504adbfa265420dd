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
await import('../dist/cli.js');
