import { Command, CommanderError } from 'commander';
import { registerAdd } from './commands/add.js';
import { registerCreate } from './commands/create.js';
import { registerList } from './commands/list.js';
import { registerRemove } from './commands/remove.js';
import { registerService } from './commands/service.js';
import { ExitCode } from './errors.js';
import { cliVersion } from './version.js';

// `create-scalable-express --help | head -3`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(Number(process.exitCode ?? 0));
    throw error;
  });
}

const EXIT_CODES = `
Exit codes:
  0    done (and verified, unless --no-verify / --no-install)
  1    install, verify or a file conflict failed; the files are kept
  2    bad input (unknown feature, invalid name, non-empty directory…);
       nothing written
  130  interrupted (Ctrl-C); files written by this run are removed, unless
       install had started: then the step is stopped at once and the
       message says how to go on

Examples:
  npx create-scalable-express my-app
  npx create-scalable-express my-app --preset standard --yes
  npx create-scalable-express api --features cluster,redis,metrics \\
    --pm npm --json --yes
  npx create-scalable-express add redis rate-limit --cwd my-app
  npx create-scalable-express remove metrics --dry-run
  npx create-scalable-express list
  npx create-scalable-express shop --services users,payments --features nginx
  npx create-scalable-express service list --cwd shop`;

const program = new Command('create-scalable-express')
  .description(
    'Generate a production-grade Express 5 + TypeScript service with the scaling features you pick, verified before you get it.',
  )
  .version(cliVersion, '-v, --version')
  .showSuggestionAfterError()
  .addHelpText('after', EXIT_CODES)
  .exitOverride()
  // Our help and commander's errors are plain text (no styles configured), so a line's width is
  // its length and there is nothing to strip: commander's defaults run node:util's
  // stripVTControlCharacters over every term and the whole text, ~13% of `--help`'s CPU.
  .configureHelp({ displayWidth: (text) => text.length })
  .configureOutput({ stripColor: (text) => text })
  // Options after `add`/`remove`/`list` belong to them, not to the root (create) command.
  .enablePositionalOptions();

registerCreate(program);
registerAdd(program);
registerRemove(program);
registerList(program);
registerService(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version exit 0; unknown options and bad arguments are usage errors.
    process.exitCode = error.exitCode === 0 ? 0 : ExitCode.usage;
    // Commander printed its error on stderr; with --json, stdout still carries the one document.
    if (error.exitCode !== 0 && process.argv.includes('--json')) {
      const message = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
      const document = { ok: false, error: { message, exitCode: ExitCode.usage } };
      process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    }
  } else {
    throw error;
  }
}
