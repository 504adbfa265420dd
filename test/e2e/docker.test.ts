import type { Copy } from 'dockerfile-ast';
import { execa } from 'execa';
import { readdirSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { getFeature } from '../../src/features/index.js';
import { runCli } from '../helpers/cli.js';
import { assertValidCompose } from '../helpers/compose-schema.js';
import {
  executeRecipe,
  execForm,
  parseStages,
  type BuiltImage,
  type Stage,
} from '../helpers/dockerfile.js';
import { copyBuildContext, parseDockerIgnore } from '../helpers/dockerignore.js';
import { freePort, waitForHttp } from '../helpers/ports.js';
import { hasBinary } from '../helpers/binaries.js';
import { spawnTracked } from '../helpers/processes.js';
import { generateVerified } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The docker feature. There is no Docker engine here, so the closest real check of the image is
 * to execute its recipe: the build context filtered by .dockerignore, each stage's COPY and RUN
 * (npm ci from the lockfile, the build, production-only dependencies), then the final stage
 * started the way the image starts it (its ENV, its exact CMD argv, as a non-root user) and its
 * HEALTHCHECK run against it. Compose files are validated against the Compose specification.
 */

const parent = tempDir('cse-docker-');
const NAME = 'shop';
const FEATURES = ['docker', 'redis'];

// Processes this file starts itself (as another user): always killed at the end.
const running = new Set<{ kill(signal?: NodeJS.Signals): boolean }>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/* eslint-disable @typescript-eslint/no-explicit-any -- the YAML documents are checked field by field */

/** Generates files only (no install) with the given features, into its own folder. */
async function generateFiles(variant: string, features: string[]): Promise<string> {
  const cwd = join(parent, variant);
  await mkdir(cwd);
  const result = await runCli(
    [NAME, '--features', features.join(','), '--yes', '--no-install', '--no-git'],
    { cwd },
  );
  expect(result.exitCode, result.stderr).toBe(0);
  return join(cwd, NAME);
}

const PASSWORD = 'e2e-secret-0123456789abcdef';

/** Compose's `${REDIS_PASSWORD:?…}` interpolation, with the value the user would set. */
function interpolate(value: string): string {
  return value.replace(/\$\{REDIS_PASSWORD:\?[^}]*\}/g, PASSWORD);
}

/**
 * The Redis service of the project's docker-compose.yml, run for real: its exact command
 * (password included) on a loopback port, and the app's REDIS_URL pointing at it.
 */
async function startComposeRedis(dir: string): Promise<{ url: string; port: number }> {
  const compose = parse(await readFile(join(dir, 'docker-compose.yml'), 'utf8'));
  const [binary, ...args] = (compose.services.redis.command as string[]).map(interpolate);
  const port = await freePort();
  const { output } = spawnTracked(binary ?? '', [
    ...args,
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
  ]);
  const deadline = Date.now() + 10_000;
  while (!output().includes('Ready to accept connections')) {
    if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = interpolate(compose.services.app.environment.REDIS_URL as string).replace(
    '@redis:6379',
    `@127.0.0.1:${port}`,
  );
  return { url, port };
}

function finalStageChain(stages: Stage[]): Stage[] {
  const chain: Stage[] = [];
  let stage = stages.at(-1);
  while (stage) {
    chain.push(stage);
    const from = stage.from;
    stage = stages.find((s) => s.name === from);
  }
  return chain;
}

function runsOf(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => i.getKeyword() === 'RUN')
    .map((i) => i.getArgumentsContent() ?? '');
}

describe('docker feature: the image', () => {
  let project: string;
  let startArgv: string[];

  beforeAll(async () => {
    ({ dir: project } = await generateVerified(parent, NAME, ['--features', FEATURES.join(',')]));
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    startArgv = (pkg.scripts.start ?? '').trim().split(/\s+/);
  }, 600_000);

  it('the Dockerfile (parsed with dockerfile-ast) follows the rules', async () => {
    const stages = parseStages(await readFile(join(project, 'Dockerfile'), 'utf8'));
    expect(stages.length).toBeGreaterThanOrEqual(3);
    // Every stage is built from an earlier stage or from the Node 24 slim image.
    for (const stage of stages) {
      if (!stages.some((s) => s.name === stage.from)) expect(stage.from).toBe('node:24-slim');
    }
    const runtime = stages.at(-1) as Stage;
    expect(finalStageChain(stages).at(-1)?.from).toBe('node:24-slim');

    // All dependencies from the lockfile, then the build, in stages before the runtime one.
    const runs = stages.flatMap(runsOf);
    expect(runs).toContain('npm ci');
    expect(runs).toContain('npm run build');
    const depsStage = stages.find((s) => runsOf(s).includes('npm ci')) as Stage;
    const copies = depsStage.instructions.filter((i) => i.getKeyword() === 'COPY');
    expect(copies[0]?.getArguments().map((a) => a.getValue())).toEqual([
      'package.json',
      'package-lock.json',
      './',
    ]);

    // The runtime stage: production dependencies only, from a stage that ran `npm ci --omit=dev`.
    expect(runsOf(runtime)).toEqual([]);
    const modules = runtime.instructions.find(
      (i) => i.getKeyword() === 'COPY' && i.getArgumentsContent()?.includes('node_modules'),
    );
    const modulesFrom = (modules as Copy | undefined)?.getFromFlag()?.getValue();
    const prodStage = stages.find((s) => s.name === modulesFrom) as Stage;
    expect(runsOf(prodStage)).toEqual(['npm ci --omit=dev']);

    const keywords = (k: string): string[] =>
      runtime.instructions
        .filter((i) => i.getKeyword() === k)
        .map((i) => i.getArgumentsContent() ?? '');
    expect(keywords('ENV').join(' ')).toMatch(/NODE_ENV=production/);
    expect(keywords('USER')).toEqual(['node']);

    // CMD: exec form, node directly (the start script's argv), never npm.
    const cmd = runtime.instructions.filter((i) => i.getKeyword() === 'CMD');
    expect(cmd).toHaveLength(1);
    const argv = execForm(cmd[0] as never);
    expect(argv).toEqual(startArgv);
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).not.toMatch(/\bnpm\b/);

    // HEALTHCHECK: exec form, Node's fetch of /healthz, no curl or wget.
    const health = runtime.instructions.filter((i) => i.getKeyword() === 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    const check = execForm(health[0] as never);
    expect(check[0]).toBe('node');
    expect(check.join(' ')).toContain('/healthz');
    expect(check.join(' ')).not.toMatch(/curl|wget/);
  });

  it('.dockerignore keeps dependencies, builds and secrets out of the build context', async () => {
    await writeFile(join(project, '.env'), 'SECRET=do-not-ship\n');
    await writeFile(join(project, '.env.production'), 'SECRET=do-not-ship\n');
    const copied = await copyBuildContext(project, join(parent, 'context-check'));
    expect(copied).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'src/main.ts']),
    );
    expect(copied).toContain('tsconfig.build.json');
    for (const path of copied) {
      expect(path).not.toMatch(/^(node_modules|dist|\.git|coverage)\//);
      expect(path).not.toMatch(/^\.env/);
    }
  });

  describe('the recipe, executed', () => {
    let image: BuiltImage;
    const root = join(parent, 'image');

    beforeAll(async () => {
      image = await executeRecipe(project, root);
    }, 600_000);

    it('ran npm ci from the lockfile, the build, then npm ci --omit=dev', () => {
      expect(image.runs.map((r) => r.command)).toEqual([
        'npm ci',
        'npm run build',
        'npm ci --omit=dev',
      ]);
    });

    it('the image holds the compiled app and production dependencies only', async () => {
      const has = (path: string): Promise<boolean> =>
        stat(join(image.dir, path)).then(
          () => true,
          () => false,
        );
      expect(await has('dist/main.js')).toBe(true);
      expect(await has('package.json')).toBe(true);
      expect(await has('node_modules/express/package.json')).toBe(true);
      expect(await has('node_modules/redis/package.json')).toBe(true);
      for (const dev of ['typescript', 'vitest', 'eslint', 'tsx', 'prettier', 'supertest'])
        expect(await has(`node_modules/${dev}`), dev).toBe(false);
      for (const absent of ['src', 'test', '.env', 'package-lock.json'])
        expect(await has(absent), absent).toBe(false);
      expect(image.env.NODE_ENV).toBe('production');
      expect(image.user).toBe('node');
    });

    it('starts with its exact CMD as a non-root user, passes its HEALTHCHECK, drains on SIGTERM', async () => {
      // The image's node is /usr/local/bin/node, readable by everyone: copy ours where uid 1000
      // can run it (/root is private), and open the folders on the way to the image.
      const nodeBin = join(root, 'bin', 'node');
      await mkdir(dirname(nodeBin), { recursive: true });
      await copyFile(process.execPath, nodeBin);
      await chmod(nodeBin, 0o755);
      for (let dir = image.dir; dir !== dirname(dir) && dir.startsWith(parent); dir = dirname(dir))
        await chmod(dir, 0o755);
      await chmod(parent, 0o755);
      await chmod(root, 0o755);
      await chmod(dirname(nodeBin), 0o755);

      // Redis as Compose runs it: with its password, which the app must send.
      const redis = await startComposeRedis(project);
      const port = await freePort();
      // `docker run -e PORT=… -e HOST=127.0.0.1 -e REDIS_URL=…`: only loopback on this machine.
      const env = {
        ...image.env,
        PATH: `${dirname(nodeBin)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: '/tmp',
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
      };
      const [command, ...args] = image.cmd;
      expect(command).toBe('node');
      const child = execa(nodeBin, args, {
        cwd: image.dir,
        env,
        extendEnv: false,
        uid: 1000,
        gid: 1000,
        all: true,
        reject: false,
        stdin: 'ignore',
      });
      running.add(child);
      let log = '';
      child.all.on('data', (chunk: Buffer) => (log += chunk.toString()));
      const output = (): string => log;
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/healthz`, 30_000).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${output()}`);
      });
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status, output()).toBe(200);
      // The app really authenticated with the URL's password: it is connected, it sent AUTH
      // (or HELLO … AUTH), and Redis refused nothing for a missing password.
      const cli = (...args: string[]) =>
        execa('redis-cli', ['-p', String(redis.port), ...args], {
          env: { REDISCLI_AUTH: PASSWORD },
        });
      const clients = await cli('CLIENT', 'LIST');
      expect(clients.stdout.trim().split('\n').length, clients.stdout).toBeGreaterThan(1);
      const info = (await cli('INFO', 'all')).stdout;
      expect(info).toMatch(/^cmdstat_(auth|hello):calls=[1-9]/m);
      expect(info).not.toMatch(/^errorstat_NOAUTH/m);
      const refused = await execa('redis-cli', ['-p', String(redis.port), 'PING'], {
        reject: false,
      });
      expect(refused.stdout).toMatch(/NOAUTH/);

      const healthcheck = image.healthcheck ?? [];
      const runCheck = () =>
        execa(nodeBin, healthcheck.slice(1), {
          cwd: image.dir,
          env,
          extendEnv: false,
          reject: false,
          uid: 1000,
          gid: 1000,
          timeout: 10_000,
        });
      expect((await runCheck()).exitCode).toBe(0);

      const signalled = performance.now();
      child.kill('SIGTERM');
      const exit = await child;
      expect(exit.exitCode, output()).toBe(0);
      // Drained and exited by itself, not cut off at the SHUTDOWN_TIMEOUT_MS deadline (10 s).
      expect(performance.now() - signalled, output()).toBeLessThan(9_000);
      // With the server gone the same check fails: it really probes the app.
      expect((await runCheck()).exitCode).not.toBe(0);
    }, 60_000);
  });
});

describe('docker feature: files for every combination', () => {
  const variants: Record<string, string[]> = {
    alone: ['docker'],
    redis: ['docker', 'redis'],
    nginx: ['docker', 'nginx', 'redis'],
    haproxy: ['docker', 'haproxy'],
    pm2: ['docker', 'pm2'],
    newrelic: ['docker', 'newrelic', 'static'],
  };
  const dirs: Record<string, string> = {};
  const composes: Record<string, any> = {};

  beforeAll(async () => {
    await Promise.all(
      Object.entries(variants).map(async ([variant, features]) => {
        dirs[variant] = await generateFiles(variant, features);
      }),
    );
    for (const [variant, dir] of Object.entries(dirs))
      composes[variant] = parse(await readFile(join(dir, 'docker-compose.yml'), 'utf8'));
  }, 120_000);

  it('the Compose schema validator rejects an invalid file (so passing means something)', () => {
    const bad = structuredClone(composes.redis);
    bad.services.app.depends_on.redis.condition = 'whenever';
    expect(() => assertValidCompose(bad)).toThrow(/invalid Compose file/);
    const badDuration = structuredClone(composes.alone);
    badDuration.services.app.healthcheck.interval = 'ten seconds';
    expect(() => assertValidCompose(badDuration)).toThrow(/invalid Compose file/);
  });

  it('docker-compose.yml validates against the Compose specification for each combination', () => {
    for (const variant of ['alone', 'redis', 'nginx', 'haproxy', 'pm2', 'newrelic'])
      expect(() => assertValidCompose(composes[variant]), variant).not.toThrow();
  });

  it('the app service: init, health check, replicas; host port only without a proxy', () => {
    for (const [variant, compose] of Object.entries(composes)) {
      const app = compose.services.app;
      expect(app, variant).toMatchObject({ build: '.', init: true });
      expect(app.healthcheck.test.join(' ')).toContain('/healthz');
      expect(app.healthcheck.test.join(' ')).not.toMatch(/curl|wget/);
      const proxied = variants[variant]?.some((f) => f === 'nginx' || f === 'haproxy');
      if (proxied) {
        expect(app.ports, variant).toBeUndefined();
        expect(app.deploy.replicas).toBeGreaterThan(1);
        expect(app.environment.TRUST_PROXY).toBe('1');
      } else {
        expect(app.ports, variant).toEqual(['3000:3000']);
        expect(app.deploy.replicas).toBe(1);
        expect(app.environment.TRUST_PROXY).toBeUndefined();
      }
    }
  });

  it('hardened services: read-only root, no capabilities, no privilege gain, bounded resources, pinned images', () => {
    for (const [variant, compose] of Object.entries(composes)) {
      for (const name of ['app', 'redis']) {
        const service = compose.services[name];
        if (!service) continue;
        const where = `${variant}: ${name}`;
        expect(service.read_only, where).toBe(true);
        expect(service.tmpfs, where).toHaveLength(1);
        expect(service.cap_drop, where).toEqual(['ALL']);
        expect(service.security_opt, where).toEqual(['no-new-privileges:true']);
        expect(service.deploy.resources.limits, where).toMatchObject({
          cpus: expect.any(String),
          memory: expect.stringMatching(/^\d+M$/),
        });
      }
      expect(compose.services.app.tmpfs).toEqual(['/tmp']);
      for (const [name, service] of Object.entries<any>(compose.services))
        expect(service.image, `${variant}: ${name}`).not.toMatch(/:latest$|^[^:]+$/);
    }
    // The writable places the read-only root needs: PM2's state, New Relic's log.
    expect(composes.pm2.services.app.environment.PM2_HOME).toMatch(/^\/tmp\//);
    expect(composes.newrelic.services.app.environment.NEW_RELIC_LOG).toBe('stdout');
  });

  it('redis: contributed by the redis feature, password from the environment, the app waits for it', () => {
    // The docker feature alone knows nothing of Redis: its service comes from the redis feature.
    const project = { name: NAME, port: 3000, packageManager: 'npm' as const };
    const withRedis = { ...project, features: ['docker', 'redis'], has: () => true };
    expect(Object.keys(getFeature('docker')?.composeServices?.(withRedis) ?? {})).toEqual(['app']);
    expect(Object.keys(getFeature('redis')?.composeServices?.(withRedis) ?? {})).toEqual([
      'app',
      'redis',
    ]);
    for (const variant of ['redis', 'nginx']) {
      const { services } = composes[variant];
      expect(services.redis.image).toMatch(/^redis:7\.\d+\.\d+-alpine$/);
      expect(services.redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
      const password = services.redis.command[services.redis.command.indexOf('--requirepass') + 1];
      expect(password).toMatch(/^\$\{REDIS_PASSWORD:\?.+\}$/);
      // The health check's redis-cli authenticates with the same password.
      expect(services.redis.environment.REDISCLI_AUTH).toBe(password);
      expect(services.app.environment.REDIS_URL).toBe(`redis://:${password}@redis:6379`);
      expect(services.app.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    }
    expect(composes.alone.services.redis).toBeUndefined();
    expect(composes.alone.services.app.environment.REDIS_URL).toBeUndefined();
  });

  // Debian's docker-compose (1.29, a client: no engine needed for `config`). Required under CI.
  it.skipIf(!hasBinary('docker-compose'))(
    'docker-compose config accepts every file, and refuses to run Redis without REDIS_PASSWORD',
    async () => {
      for (const [variant, dir] of Object.entries(dirs)) {
        const env = { ...process.env, REDIS_PASSWORD: PASSWORD };
        const ok = await execa('docker-compose', ['config'], { cwd: dir, env, reject: false });
        expect(ok.exitCode, `${variant}: ${ok.stderr}`).toBe(0);
        const resolved = parse(ok.stdout);
        if (composes[variant].services.redis) {
          expect(resolved.services.app.environment.REDIS_URL).toBe(
            `redis://:${PASSWORD}@redis:6379`,
          );
          const without = { ...process.env };
          delete without.REDIS_PASSWORD;
          const refused = await execa('docker-compose', ['config'], {
            cwd: dir,
            env: without,
            extendEnv: false,
            reject: false,
          });
          expect(refused.exitCode, variant).not.toBe(0);
          expect(refused.stderr).toMatch(/set REDIS_PASSWORD/);
        }
      }
    },
    60_000,
  );

  it('every depends_on points at a service with a health check; proxies wait for a healthy app', () => {
    for (const [variant, compose] of Object.entries(composes)) {
      for (const [name, service] of Object.entries<any>(compose.services)) {
        for (const [target, dep] of Object.entries<any>(service.depends_on ?? {})) {
          expect(compose.services[target], `${variant}: ${name} → ${target}`).toBeDefined();
          if (dep.condition === 'service_healthy')
            expect(compose.services[target].healthcheck, `${variant}: ${target}`).toBeDefined();
        }
      }
    }
    // The proxy helpers add their own service; when they do, it waits for a healthy app.
    for (const proxy of ['nginx', 'haproxy']) {
      if (!getFeature(proxy)?.composeServices) continue;
      const service = composes[proxy].services[proxy];
      expect(service, proxy).toBeDefined();
      expect(service.depends_on.app.condition).toBe('service_healthy');
    }
  });

  it('compose files pass the generated project prettier check (singleQuote)', async () => {
    const prettier = join(process.cwd(), 'node_modules', '.bin', 'prettier');
    for (const [variant, dir] of Object.entries(dirs)) {
      const result = await execa(
        prettier,
        ['--check', 'docker-compose.yml', '.github/workflows/ci.yml'],
        { cwd: dir, reject: false },
      );
      expect(result.exitCode, `${variant}: ${result.stderr}`).toBe(0);
    }
  });

  it('the CMD is the start argv (New Relic preload flags included), or pm2-runtime with pm2', async () => {
    for (const [variant, dir] of Object.entries(dirs)) {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
      const stages = parseStages(await readFile(join(dir, 'Dockerfile'), 'utf8'));
      const cmd = stages.at(-1)?.instructions.find((i) => i.getKeyword() === 'CMD');
      const argv = execForm(cmd as never);
      if (variant === 'pm2')
        expect(argv).toEqual(['node_modules/.bin/pm2-runtime', 'ecosystem.config.cjs']);
      else expect(argv, variant).toEqual(pkg.scripts.start.trim().split(/\s+/));
    }
  });

  it('every file the runtime stage copies from the context is in the filtered build context', async () => {
    for (const [variant, dir] of Object.entries(dirs)) {
      // --no-install: no lockfile; the image needs one (README: run npm install first).
      await writeFile(join(dir, 'package-lock.json'), '{}\n');
      const context = await copyBuildContext(dir, join(parent, `ctx-${variant}`));
      const stages = parseStages(await readFile(join(dir, 'Dockerfile'), 'utf8'));
      for (const stage of stages) {
        for (const copy of stage.instructions.filter((i) => i.getKeyword() === 'COPY')) {
          if ((copy as Copy).getFromFlag()) continue;
          const sources = copy
            .getArguments()
            .map((a) => a.getValue())
            .slice(0, -1);
          for (const source of sources) {
            if (source === '.') continue;
            const found = context.some((p) => p === source || p.startsWith(`${source}/`));
            expect(found, `${variant}: COPY ${source}`).toBe(true);
          }
        }
      }
    }
  });

  it('the generated .dockerignore sends the sources and manifests, and nothing else, on a real tree', async () => {
    // A used project: generated files plus what installs, builds, tests, git and a developer add.
    const dir = join(parent, 'used-tree');
    await cp(dirs.newrelic!, dir, { recursive: true });
    const extra = [
      'node_modules/express/index.js',
      'node_modules/.bin/tsc',
      'dist/main.js',
      'coverage/lcov.info',
      '.git/HEAD',
      '.env',
      '.env.production',
      '.env.local',
      'npm-debug.log',
      'package-lock.json',
    ];
    for (const path of extra) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), 'x\n');
    }
    const tree = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)));
    // What the image needs, written out here (not read from the file under test): the sources,
    // static assets, package manifests, TypeScript configs and the New Relic config.
    const needed = (path: string): boolean =>
      /^(src|public)\//.test(path) ||
      ['package.json', 'package-lock.json', 'newrelic.cjs'].includes(path) ||
      /^tsconfig(\.build)?\.json$/.test(path);
    // Everything else goes (small config files), but never these: secrets, dependencies,
    // builds, logs, deployment files and tests.
    const forbidden = (path: string): boolean =>
      /^(node_modules|dist|coverage|\.git|\.github|k8s|test)\//.test(path) ||
      /^\.env(\.|$)/.test(path) ||
      /\.log$/.test(path) ||
      ['Dockerfile', '.dockerignore', 'docker-compose.yml', 'README.md'].includes(path);
    const context = await copyBuildContext(dir, join(parent, 'context-real-tree'));
    // Exactly the tree minus the forbidden files: nothing forbidden goes, nothing needed stays.
    expect(context).toEqual(tree.filter((p) => !forbidden(p)).sort());
    const missing = tree.filter(needed).filter((p) => !context.includes(p));
    expect(missing).toEqual([]);
    expect(context).toEqual(expect.arrayContaining(['src/main.ts', 'public/index.html']));
  });

  it('the .dockerignore matcher follows Docker rules: root-relative, ** globs, ! exceptions, last wins', () => {
    const m = parseDockerIgnore(
      '# comment\nnode_modules\n**/*.log\n/dist\n.env.*\n!.env.example\nk8s/*.yaml\n',
    );
    expect(m.ignores('node_modules/express/index.js')).toBe(true);
    expect(m.ignores('packages/a/node_modules/x.js')).toBe(false); // not a gitignore: root only
    expect(m.ignores('debug.log')).toBe(true);
    expect(m.ignores('a/b/debug.log')).toBe(true);
    expect(m.ignores('dist/main.js')).toBe(true);
    expect(m.ignores('.env.production')).toBe(true);
    expect(m.ignores('.env.example')).toBe(false);
    expect(m.ignores('k8s/deployment.yaml')).toBe(true);
    expect(m.ignores('k8s/sub/deployment.yaml')).toBe(false);
    expect(m.ignores('src/main.ts')).toBe(false);
  });

  it('the README documents the image, Compose and the lockfile', async () => {
    const readme = await readFile(join(dirs.nginx ?? '', 'README.md'), 'utf8');
    expect(readme).toContain('## Docker and Compose');
    expect(readme).toMatch(/--no-install/);
    expect(readme).toMatch(/--init/);
    expect(readme).toMatch(/behind `nginx`/);
  });
});

describe('docker feature: the image with pm2', () => {
  let image: BuiltImage;
  const root = join(parent, 'image-pm2');

  beforeAll(async () => {
    const cwd = join(parent, 'pm2-installed');
    await mkdir(cwd);
    // A real install for the lockfile; the recipe below builds and tests the rest.
    const result = await runCli(
      [NAME, '--features', 'docker,pm2', '--yes', '--no-git', '--no-verify'],
      { cwd, env: { npm_config_prefer_offline: 'true' } },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    image = await executeRecipe(join(cwd, NAME), root);
  }, 600_000);

  it('runs pm2-runtime from node_modules/.bin: instances serve, the HEALTHCHECK passes, SIGTERM stops cleanly', async () => {
    expect(image.cmd).toEqual(['node_modules/.bin/pm2-runtime', 'ecosystem.config.cjs']);
    const port = await freePort();
    const env = {
      ...image.env,
      PATH: process.env.PATH ?? '',
      HOME: join(root, 'home'),
      PORT: String(port),
      HOST: '127.0.0.1',
      WEB_CONCURRENCY: '2',
    };
    const [command = '', ...args] = image.cmd;
    const child = execa(join(image.dir, command), args, {
      cwd: image.dir,
      env,
      extendEnv: false,
      all: true,
      reject: false,
      stdin: 'ignore',
    });
    running.add(child);
    let log = '';
    child.all.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${log}`);
    });
    const check = await execa(process.execPath, (image.healthcheck ?? []).slice(1), {
      env,
      extendEnv: false,
      reject: false,
      timeout: 10_000,
    });
    expect(check.exitCode).toBe(0);
    child.kill('SIGTERM');
    const exit = await child;
    expect(exit.exitCode, log).toBe(0);
    expect(log).toMatch(/exited with code \[0\]/);
  }, 60_000);
});
