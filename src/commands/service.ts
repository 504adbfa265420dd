import type { Command } from 'commander';
import type { ServiceListResult } from '../actions/service-list.js';
import type { ServiceAddResult } from '../actions/service-add.js';
import type { ServiceRemoveResult } from '../actions/service-remove.js';
import { givenFlags, growOptions } from './grow.js';

/** `create-scalable-express service list`: the services of a workspace made with --services. */
export function registerService(program: Command): void {
  const service = program
    .command('service')
    .description('work with the services of a workspace made with --services');
  service
    .command('list')
    .description("list the workspace's services: port, in-app features, gateway route")
    .option('--cwd <dir>', 'a folder of the workspace (default: the current folder)')
    .option('--json', 'print one JSON result document on stdout')
    .action(async (_opts: unknown, command: Command) => {
      const flags = givenFlags(command) as { cwd?: string; json?: boolean };
      const json = Boolean(flags.json);
      // Loaded only when the command runs, so that --help stays fast.
      const [{ listServices }, { createOutput }, { runAction }] = await Promise.all([
        import('../actions/service-list.js'),
        import('../ui/output.js'),
        import('./run.js'),
      ]);
      const out = createOutput({ json });
      const partial: Partial<ServiceListResult> = {};
      await runAction(out, json, partial, () => listServices(flags.cwd ?? process.cwd(), out));
    });
  growOptions(
    service
      .command('add')
      .description(
        'add a service to the workspace (same in-app features); the gateway and README follow. In a single project: split it into a workspace first (the app moves to services/<its name>)',
      )
      .argument('<name>', 'the new service: lowercase letters, digits and inner hyphens'),
  ).action(async (name: string, _opts: unknown, command: Command) => {
    const flags = givenFlags(command) as {
      cwd?: string;
      dryRun?: boolean;
      force?: boolean;
      install?: boolean;
      verify?: boolean;
      json?: boolean;
      verbose?: boolean;
    };
    const json = Boolean(flags.json);
    const [{ addService }, { createOutput }, { runAction }] = await Promise.all([
      import('../actions/service-add.js'),
      import('../ui/output.js'),
      import('./run.js'),
    ]);
    const out = createOutput({ json });
    const partial: Partial<ServiceAddResult> = {};
    await runAction(out, json, partial, () =>
      addService(
        {
          cwd: flags.cwd ?? process.cwd(),
          name,
          dryRun: Boolean(flags.dryRun),
          force: Boolean(flags.force),
          install: flags.install !== false,
          verify: flags.verify !== false,
          verbose: Boolean(flags.verbose),
        },
        out,
        partial,
      ),
    );
  });
  service
    .command('remove')
    .description(
      'delete a service of the workspace (with --force; --dry-run lists what goes); the gateway and README follow',
    )
    .argument('<name>', 'the service to remove')
    .option('--cwd <dir>', 'a folder of the workspace (default: the current folder)')
    .option('--dry-run', 'list the files that would be deleted or changed; write nothing')
    .option(
      '--force',
      'delete the service and its code; rewrite root files you edited (.orig kept)',
    )
    .option('--no-install', 'do not run the install at the root afterwards')
    .option('--json', 'print one JSON result document on stdout (human output goes to stderr)')
    .option('--verbose', 'stream the output of the install')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const flags = givenFlags(command) as {
        cwd?: string;
        dryRun?: boolean;
        force?: boolean;
        install?: boolean;
        json?: boolean;
        verbose?: boolean;
      };
      const json = Boolean(flags.json);
      const [{ removeService }, { createOutput }, { runAction }] = await Promise.all([
        import('../actions/service-remove.js'),
        import('../ui/output.js'),
        import('./run.js'),
      ]);
      const out = createOutput({ json });
      const partial: Partial<ServiceRemoveResult> = {};
      await runAction(out, json, partial, () =>
        removeService(
          {
            cwd: flags.cwd ?? process.cwd(),
            name,
            dryRun: Boolean(flags.dryRun),
            force: Boolean(flags.force),
            install: flags.install !== false,
            verbose: Boolean(flags.verbose),
          },
          out,
          partial,
        ),
      );
    });
}
