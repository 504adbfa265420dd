/**
 * "Split later": `service add` in a single project made by create, with user edits and a git
 * history, through the built CLI and without installing anything.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** create's first commit and the test's own need an identity, whatever the machine has. */
const gitEnv = {
  GIT_AUTHOR_NAME: 'Split Test',
  GIT_AUTHOR_EMAIL: 'split@example.test',
  GIT_COMMITTER_NAME: 'Split Test',
  GIT_COMMITTER_EMAIL: 'split@example.test',
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  const result = await execa('git', args, { cwd, env: gitEnv });
  return String(result.stdout);
}

/** Every file under `dir` but .git: path → sha256 and permission bits. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const path = relative(dir, full);
    if (path.split('/')[0] === '.git') continue;
    const hash = createHash('sha256').update(readFileSync(full)).digest('hex');
    files.set(path, `${hash} ${(statSync(full).mode & 0o777).toString(8)}`);
  }
  return files;
}

const sorted = (files: Map<string, string>): [string, string][] =>
  [...files].sort(([a], [b]) => a.localeCompare(b));

describe('service add in a single project (split later)', () => {
  const parent = tempDir();
  const root = join(parent, 'shop');
  let before: Map<string, string>;
  let head: string;
  let tracked: string[];

  const cli = (args: string[], cwd = root) => runCli(args, { cwd, env: gitEnv });

  beforeAll(async () => {
    const made = await cli(['shop', '--features', 'nginx', '--no-install', '--yes'], parent);
    expect(made.exitCode, made.stderr).toBe(0);
    // The user's own work: an edit, a new module, bytes that are not text, an executable script.
    appendFileSync(join(root, 'src/routes/examples.ts'), '// my own line\n');
    writeFileSync(join(root, 'src/mine.ts'), 'export const mine = 1;\n');
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'assets/logo.bin'), randomBytes(4096));
    mkdirSync(join(root, 'scripts'));
    writeFileSync(join(root, 'scripts/seed.sh'), '#!/bin/sh\necho seed\n');
    chmodSync(join(root, 'scripts/seed.sh'), 0o755);
    await git(root, 'add', '-A');
    await git(root, 'commit', '-q', '-m', 'My own changes');
    before = snapshot(root);
    head = await git(root, 'rev-parse', 'HEAD');
    tracked = (await git(root, 'ls-files')).split('\n');
  });

  /** Nothing on disk or in git changed since beforeAll. */
  async function expectUntouched(): Promise<void> {
    expect(sorted(snapshot(root))).toEqual(sorted(before));
    expect(await git(root, 'rev-parse', 'HEAD')).toBe(head);
    expect(await git(root, 'status', '--porcelain')).toBe('');
  }

  it.each([
    ['Pay', /Invalid service name "Pay"/],
    ['shop', /"shop" is the app itself/],
    ['shop-workspace', /like its workspace/],
  ])('service add %s: one line, exit 2, nothing touched', async (name, message) => {
    const result = await cli(['service', 'add', name, '--no-install']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    await expectUntouched();
  });

  it('refuses while git has uncommitted changes, then nothing is touched', async () => {
    const file = join(root, 'src/mine.ts');
    appendFileSync(file, '// not committed\n');
    const result = await cli(['service', 'add', 'payments', '--no-install']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/uncommitted changes/);
    expect(existsSync(join(root, 'services'))).toBe(false);
    await git(root, 'checkout', '--', 'src/mine.ts');
    await expectUntouched();
  });

  it.each([
    [['--features', 'docker'], /has docker, which a split does not carry over yet/],
    [['--pm', 'yarn'], /A workspace needs Yarn 2 or later \(Yarn 1\.22\.22/],
  ])('a project made with %j is refused in one line', async (flags, message) => {
    const name = `other${flags[1]}`;
    const made = await cli([name, ...flags, '--no-install', '--no-git', '--yes'], parent);
    expect(made.exitCode, made.stderr).toBe(0);
    const dir = join(parent, name);
    if (flags[1] === 'yarn') {
      // A project that records Yarn 1 (as one made where Yarn 1 is installed does).
      const file = join(dir, 'package.json');
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { packageManager: string };
      pkg.packageManager = 'yarn@1.22.22';
      writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
    }
    const old = snapshot(dir);
    const result = await cli(['service', 'add', 'payments', '--no-install'], dir);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(sorted(snapshot(dir))).toEqual(sorted(old));
  });

  it('a project outside git is split too, nothing committed', async () => {
    const made = await cli(['plain', '--no-install', '--no-git', '--yes'], parent);
    expect(made.exitCode, made.stderr).toBe(0);
    const dir = join(parent, 'plain');
    const old = snapshot(dir);
    const result = await cli(['service', 'add', 'orders', '--no-install', '--json'], dir);
    expect(result.exitCode, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { split: { git: string } }).split.git).toBe(
      'not a git repository',
    );
    expect(sorted(snapshot(join(dir, 'services/plain')))).toEqual(sorted(old));
    expect(existsSync(join(dir, 'services/orders/package.json'))).toBe(true);
    expect(existsSync(join(dir, '.git'))).toBe(false);
  });

  it.each([
    ['pnpm', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'pnpm -r run build'],
    ['yarn', 'yarn.lock', '.yarnrc.yml', 'yarn workspaces foreach -At run build'],
  ])(
    'a %s project splits: its lockfile %s and its settings stay at the root, the other files move',
    async (pm, lockfile, settings, build) => {
      const name = `made-with-${pm}`;
      const made = await cli([name, '--pm', pm, '--no-install', '--no-git', '--yes'], parent);
      expect(made.exitCode, made.stderr).toBe(0);
      const dir = join(parent, name);
      // The install's lockfile (none without an install): the workspace keeps it at its root.
      writeFileSync(join(dir, lockfile), `# ${pm}'s lockfile\n`);
      expect(existsSync(join(dir, settings))).toBe(true);
      const old = snapshot(dir);
      const result = await cli(['service', 'add', 'orders', '--no-install'], dir);
      expect(result.exitCode, result.stderr).toBe(0);

      const app = join(dir, 'services', name);
      const moved = snapshot(app);
      // Every file moved with its bytes, but the lockfile and the settings (kept at the root) and
      // the manifest (which no longer lists the settings file).
      const stayed = [lockfile, settings, '.scalable-express.json'];
      expect(sorted(new Map([...moved].filter(([path]) => !stayed.includes(path))))).toEqual(
        sorted(new Map([...old].filter(([path]) => !stayed.includes(path)))),
      );
      expect(existsSync(join(app, settings))).toBe(false);
      expect(existsSync(join(app, lockfile))).toBe(false);
      expect(readFileSync(join(dir, lockfile), 'utf8')).toBe(`# ${pm}'s lockfile\n`);
      const manifest = JSON.parse(readFileSync(join(app, '.scalable-express.json'), 'utf8')) as {
        files: Record<string, string>;
      };
      expect(Object.keys(manifest.files)).not.toContain(settings);
      expect(Object.keys(manifest.files)).toContain('package.json');
      // The root is the pm's workspace: its settings, its scripts, the client by workspace:*.
      expect(readFileSync(join(dir, settings), 'utf8')).toMatch(
        pm === 'pnpm' ? /services\/\*/ : /nodeLinker: node-modules/,
      );
      const root = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      expect(root.scripts.build).toBe(build);
      const orders = JSON.parse(
        readFileSync(join(dir, 'services/orders/package.json'), 'utf8'),
      ) as { dependencies: Record<string, string> };
      expect(Object.values(orders.dependencies)).toContain('workspace:*');
      expect(existsSync(join(dir, 'services/orders', settings))).toBe(false);
    },
  );

  it('--dry-run --json shows the moves and the new files and changes nothing', async () => {
    const result = await cli(['service', 'add', 'payments', '--dry-run', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      service: { name: string; port: number };
      files: { path: string; action: string }[];
      split: { app: string; workspace: string; git: string; moves: { from: string; to: string }[] };
    };
    expect(doc.split.git).toBe('would commit');
    expect(doc.service).toEqual({ name: 'payments', port: 3001 });
    expect(doc.split.app).toBe('services/shop');
    expect(doc.split.workspace).toBe('shop-workspace');
    expect(doc.split.moves).toEqual(
      [...before.keys()].sort().map((from) => ({ from, to: `services/shop/${from}` })),
    );
    expect(doc.files).toEqual(
      expect.arrayContaining([
        { path: 'package.json', action: 'update', bytes: expect.any(Number) as number },
        expect.objectContaining({ path: 'gateway/nginx.conf', action: 'create' }),
        expect.objectContaining({ path: 'packages/service-client/src/index.ts' }),
        expect.objectContaining({ path: 'services/payments/src/routes/payments.ts' }),
        expect.objectContaining({ path: '.scalable-express-workspace.json' }),
      ]),
    );
    await expectUntouched();
  });

  it('a hard kill while moving is rolled back by the next run: every file back in place', async () => {
    const child = execa(process.execPath, [BIN, 'service', 'add', 'payments', '--no-install'], {
      cwd: root,
      env: { ...process.env, ...gitEnv, CSE_TEST_WRITE_DELAY_MS: '200', NO_COLOR: '1' },
      reject: false,
      stdin: 'ignore',
    });
    // Event-based: wait until the move has begun (the journal and a moved file exist); 60 s is
    // only a ceiling for a very loaded machine.
    const moved = join(root, 'services/shop');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (existsSync(join(root, '.scalable-express.journal.json')) && existsSync(moved)) {
        if (readdirSync(moved, { recursive: true }).length > 2) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    const killed = await child;
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(root, '.scalable-express.journal.json'))).toBe(true);

    const next = await cli(['service', 'add', 'payments', '--dry-run']);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stdout + next.stderr).toMatch(/interrupted earlier run was rolled back/);
    await expectUntouched();
  });

  it('moves every file byte-identically, commits the move as renames, and the new service is beside it', async () => {
    const result = await cli(['service', 'add', 'payments', '--no-install', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { split: { git: string } }).split.git).toBe('committed');

    // Every file, its bytes and its mode, now under services/shop/.
    expect(sorted(snapshot(join(root, 'services/shop')))).toEqual(sorted(before));
    // The folders the move emptied are gone from the root.
    expect(existsSync(join(root, 'src'))).toBe(false);
    expect(existsSync(join(root, 'scripts'))).toBe(false);
    expect(existsSync(join(root, '.scalable-express.json'))).toBe(false);
    expect(readFileSync(join(root, 'gateway/nginx.conf'), 'utf8')).toContain('location /shop/');

    // git: committed (clean), and the history follows the moved files, the user's edit too.
    expect(await git(root, 'status', '--porcelain')).toBe('');
    const follow = (path: string) => git(root, 'log', '--follow', '--format=%s', '--', path);
    const examples = await follow('services/shop/src/routes/examples.ts');
    expect(examples).toContain('My own changes');
    expect(examples).toContain('Initial commit from create-scalable-express');
    // The move is a commit of its own, of renames only, so that git pairs each file with its
    // own old path (in one commit with the workspace, the old src/breaker.ts could be paired
    // with the client's copy of it).
    const moveCommit = await git(root, 'show', '-M', '--name-status', '--format=%s', 'HEAD~1');
    const [subject, , ...changes] = moveCommit.split('\n');
    expect(subject).toBe('Move the app to services/shop (create-scalable-express split)');
    expect(changes.sort()).toEqual(tracked.map((p) => `R100\t${p}\tservices/shop/${p}`).sort());
    expect(await follow('services/shop/assets/logo.bin')).toContain('My own changes');

    const list = await cli(['service', 'list', '--json']);
    const services = (JSON.parse(list.stdout) as { services: { name: string; port: number }[] })
      .services;
    expect(services).toEqual([
      expect.objectContaining({ name: 'shop', port: 3000 }),
      expect.objectContaining({ name: 'payments', port: 3001 }),
    ]);
    expect(existsSync(join(root, '.scalable-express.journal.json'))).toBe(false);
    expect(existsSync(join(root, '.scalable-express.lock'))).toBe(false);
  });
});
