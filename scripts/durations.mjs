// Reads a test run's output on stdin (test/helpers/timing-reporter.ts's table) and writes each
// file's seconds to test/durations.json, which test/helpers/sequencer.ts orders the files by.
import { readFileSync, writeFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';

const text = stripVTControlCharacters(readFileSync(0, 'utf8'));
const table = text.slice(text.lastIndexOf('Time by test file'));
const seconds = {};
for (const [, value, file] of table.matchAll(/^\s*([\d.]+) s {2}(test\/\S+\.test\.ts)$/gm))
  seconds[file] = Math.round(Number(value));
if (Object.keys(seconds).length === 0) {
  console.error('durations: no "Time by test file" table on stdin');
  process.exit(1);
}
writeFileSync(
  new URL('../test/durations.json', import.meta.url),
  `${JSON.stringify(seconds, null, 2)}\n`,
);
console.log(`durations: ${Object.keys(seconds).length} files`);
