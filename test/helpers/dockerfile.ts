import { DockerfileParser, type Copy, type Env, type From, type Instruction } from 'dockerfile-ast';
import { execa } from 'execa';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { copyBuildContext } from './dockerignore.js';

/** One build stage of a parsed Dockerfile. */
export interface Stage {
  name: string | undefined;
  /** The image or earlier stage it starts from, with build ARGs expanded (e.g. node:24-slim). */
  from: string;
  instructions: Instruction[];
}

export function parseStages(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as From;
      stages.push({
        name: from.getBuildStage() ?? undefined,
        from: from.getExpandedArguments()[0]?.getValue() ?? '',
        instructions: [],
      });
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** The exec-form argv of CMD or `HEALTHCHECK CMD`, as Docker reads it (a JSON array). */
export function execForm(instruction: Instruction): string[] {
  let content = instruction.getArgumentsContent() ?? '';
  if (instruction.getKeyword() === 'HEALTHCHECK') {
    content = content.replace(/^(?:--[a-z-]+=\S+\s+)*CMD\s+/, '');
  }
  const argv: unknown = JSON.parse(content);
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
    throw new Error(`${instruction.getKeyword()} is not in exec form: ${content}`);
  return argv as string[];
}

/**
 * What RUN takes from this machine besides the stage's ENV: where node and npm are, the npm cache
 * (HOME), and how this machine reaches the registry (its CA bundle, proxies, npm settings), as a
 * Docker build on this network would be given them.
 */
function machineEnv(): Record<string, string> {
  const names = [
    'PATH',
    'HOME',
    'NODE_EXTRA_CA_CERTS',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'http_proxy',
    'https_proxy',
    'no_proxy',
  ];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // Only npm's network settings: others npm exports to scripts (npm_config_local_prefix…) would
    // point the install at this repository.
    const npmNetwork = /^npm_config_(registry|cafile|ca|strict_ssl|proxy|https_proxy|noproxy)$/i;
    if (value !== undefined && (names.includes(name) || npmNetwork.test(name))) env[name] = value;
  }
  return env;
}

/** What the last stage leaves behind: the image. */
export interface BuiltImage {
  /** The folder standing for the image's WORKDIR. */
  dir: string;
  env: Record<string, string>;
  user: string | undefined;
  cmd: string[];
  healthcheck: string[] | undefined;
  /** Every RUN command executed, per stage name. */
  runs: { stage: string; command: string }[];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Executes a Dockerfile's recipe without a Docker engine: each stage gets a folder standing for
 * its WORKDIR (which must be one absolute folder); a stage built FROM an earlier stage starts as
 * a copy of it, one FROM an image starts empty (the image's own tools, node and npm, are the
 * machine's); COPY copies from the build context filtered by .dockerignore, or from an earlier
 * stage with --from; ENV accumulates; RUN runs with `sh -c` in the stage folder with the stage's
 * ENV (plus the machine's PATH, HOME and registry settings: see machineEnv). Anything else the
 * recipe asks for (ADD, another WORKDIR) fails the run rather than being skipped.
 */
export async function executeRecipe(
  contextDir: string,
  root: string,
  /** Relative to contextDir, as `docker build -f` (a workspace's services/<name>/Dockerfile). */
  dockerfile = 'Dockerfile',
): Promise<BuiltImage> {
  const stages = parseStages(await readFile(join(contextDir, dockerfile), 'utf8'));
  const context = join(root, 'context');
  await copyBuildContext(contextDir, context);
  const built = new Map<string, { dir: string; env: Record<string, string>; workdir?: string }>();
  const runs: BuiltImage['runs'] = [];
  let last: BuiltImage | undefined;

  for (const [index, stage] of stages.entries()) {
    const key = stage.name ?? String(index);
    const dir = join(root, `stage-${index}-${key}`);
    const parent = built.get(stage.from);
    const env: Record<string, string> = { ...parent?.env };
    let workdir = parent?.workdir;
    // A later WORKDIR inside the first one (a workspace image runs in /app/services/<name>):
    // the stage folder still stands for the first, paths and RUN resolve against the current.
    let current = workdir;
    if (parent) await execa('cp', ['-a', parent.dir, dir]);
    else await mkdir(dir, { recursive: true });
    let user: string | undefined;
    let cmd: string[] = [];
    let healthcheck: string[] | undefined;

    const inWorkdir = (path: string): string => {
      if (!workdir || !current) throw new Error(`stage ${key}: a path before any WORKDIR`);
      const absolute = posix.resolve(current, path);
      if (absolute !== workdir && !absolute.startsWith(`${workdir}/`))
        throw new Error(`stage ${key}: ${path} is outside WORKDIR ${workdir}`);
      return join(dir, posix.relative(workdir, absolute));
    };

    for (const instruction of stage.instructions) {
      const keyword = instruction.getKeyword();
      const args = instruction.getArguments().map((a) => a.getValue());
      switch (keyword) {
        case 'WORKDIR': {
          const path = args[0] ?? '';
          if (workdir !== undefined && path !== workdir && !path.startsWith(`${workdir}/`))
            throw new Error(`stage ${key}: only WORKDIRs inside the first one are supported`);
          workdir ??= path;
          current = path;
          break;
        }
        case 'ENV':
          for (const property of (instruction as Env).getProperties())
            env[property.getName()] = property.getValue() ?? '';
          break;
        case 'COPY': {
          const copy = instruction as Copy;
          const fromStage = copy.getFromFlag()?.getValue();
          const paths = args.filter((a) => !a.startsWith('--'));
          const dest = paths.pop() ?? '';
          const destPath = inWorkdir(dest);
          const intoFolder = dest.endsWith('/') || paths.length > 1;
          for (const source of paths) {
            let from: string;
            if (fromStage) {
              const src = built.get(fromStage);
              if (!src?.workdir) throw new Error(`COPY --from=${fromStage}: no such stage`);
              from = join(src.dir, posix.relative(src.workdir, posix.resolve(src.workdir, source)));
            } else from = join(context, source);
            if (!(await exists(from)))
              throw new Error(`stage ${key}: COPY ${source}: not in the build context or stage`);
            const isDir = (await stat(from)).isDirectory();
            const target = isDir || !intoFolder ? destPath : join(destPath, posix.basename(source));
            await mkdir(isDir ? target : join(target, '..'), { recursive: true });
            await cp(from, target, { recursive: true, verbatimSymlinks: true });
          }
          break;
        }
        case 'RUN': {
          const command = instruction.getArgumentsContent() ?? '';
          runs.push({ stage: key, command });
          const result = await execa('sh', ['-c', command], {
            cwd: current ? inWorkdir('.') : dir,
            env: { ...env, ...machineEnv(), npm_config_prefer_offline: 'true' },
            extendEnv: false,
            all: true,
            reject: false,
            stdin: 'ignore',
          });
          if (result.exitCode !== 0)
            throw new Error(`stage ${key}: RUN ${command} failed:\n${String(result.all)}`);
          break;
        }
        case 'USER':
          user = args[0];
          break;
        case 'CMD':
          cmd = execForm(instruction);
          break;
        case 'HEALTHCHECK':
          healthcheck = execForm(instruction);
          break;
        case 'EXPOSE':
        case 'ARG':
          break;
        default:
          throw new Error(`stage ${key}: ${keyword} is not supported by this recipe runner`);
      }
    }
    built.set(key, { dir, env, workdir });
    last = { dir, env, user, cmd, healthcheck, runs };
  }
  if (!last) throw new Error('the Dockerfile has no stage');
  return last;
}
