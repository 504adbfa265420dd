/**
 * `add`/`remove` of an in-app feature in one service of a workspace, through the built CLI (no
 * install): the workspace's deployment follows. The root docker-compose.yml gets (and loses) the
 * service's Redis URL, its own database and the monitoring; the service's Kubernetes manifests
 * follow too; the other service is untouched; a root file the user edited is a conflict with
 * nothing written; removing what was added gives back the original bytes.
 */
import { execa } from 'execa';
import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { JOURNAL_FILE, writeJournal } from '../../src/tree/journal.js';
import { binaryPath } from '../helpers/binaries.js';
import { runCli } from '../helpers/cli.js';
import { assertValidCompose } from '../helpers/compose-schema.js';
import { tempDir } from '../helpers/tmp.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML, checked by the assertions */

const parent = tempDir('cse-workspace-grow-');

async function createWorkspace(name: string, features: string): Promise<string> {
  const made = await runCli(
    [name, '--services', 'users,payments', '--features', features, '--no-install', '--no-git'],
    { cwd: parent },
  );
  expect(made.exitCode, made.stderr).toBe(0);
  return join(parent, name);
}

/** Every file of the workspace, path → bytes. */
function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(root, path), readFileSync(path, 'latin1'));
  }
  return files;
}

const composeOf = (root: string) =>
  parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, any>;
  };

/** Debian's docker-compose (a client: `config` needs no engine) resolves the file. */
async function expectComposeConfigPasses(root: string): Promise<void> {
  const dockerCompose = binaryPath('docker-compose');
  if (!dockerCompose) return; // not installed locally (under CI=true binaryPath throws)
  const result = await execa(dockerCompose, ['config', '-q'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_PASSWORD: 'r'.repeat(32),
      POSTGRES_PASSWORD: 'p'.repeat(32),
      POSTGRES_REPLICATION_PASSWORD: 'q'.repeat(32),
      GRAFANA_ADMIN_PASSWORD: 'g'.repeat(32),
    },
    extendEnv: false,
    reject: false,
  });
  expect(result.exitCode, result.stderr).toBe(0);
}

async function expectPromtoolPasses(root: string, rules: number): Promise<void> {
  const promtool = binaryPath('promtool');
  if (!promtool) return; // not installed locally (under CI=true binaryPath throws)
  const result = await execa(promtool, ['check', 'config', 'monitoring/prometheus.yml'], {
    cwd: root,
    reject: false,
    all: true,
  });
  expect(result.exitCode, result.all).toBe(0);
  expect(result.all).toContain(`SUCCESS: ${rules} rule files found`);
}

describe('add/remove in a service of a workspace: the deployment follows', () => {
  it('redis, postgres and queue in users: its compose entries and manifests follow, payments does not; remove gives the files back', async () => {
    const root = await createWorkspace('shop', 'docker,nginx,kubernetes');
    const original = snapshot(root);
    const users = join(root, 'services/users');

    const dry = await runCli(['add', 'redis', 'postgres', '--cwd', users, '--dry-run', '--json']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const planned = (JSON.parse(dry.stdout) as { files: { path: string }[] }).files.map(
      (f) => f.path,
    );
    expect(planned).toEqual(
      expect.arrayContaining([
        'docker-compose.yml',
        'services/users/k8s/redis.yaml',
        'services/users/src/features/redis.ts',
      ]),
    );
    expect(snapshot(root)).toEqual(original);

    const added = await runCli([
      'add',
      'redis',
      'postgres',
      'queue',
      '--cwd',
      users,
      '--no-install',
    ]);
    expect(added.exitCode, added.stderr).toBe(0);
    const compose = composeOf(root);
    assertValidCompose(compose);
    await expectComposeConfigPasses(root);
    const { services } = compose;
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        'redis',
        'users-postgres',
        'users-postgres-replica',
        'users-migrate',
        'users-worker',
      ]),
    );
    // Its worker takes its own queue from the shared Redis, never another service's jobs.
    expect(services['users-worker'].environment.QUEUE_NAME).toBe('users');
    expect(Object.keys(services).filter((n) => n.startsWith('payments'))).toEqual(['payments']);
    const env = services.users.environment as Record<string, string>;
    expect(env.REDIS_URL).toMatch(/@redis:6379$/);
    expect(env.DATABASE_URL).toMatch(/@users-postgres:5432\//);
    expect(Object.keys(services.users.depends_on)).toEqual(
      expect.arrayContaining(['redis', 'users-postgres', 'users-migrate']),
    );
    const other = services.payments.environment as Record<string, string>;
    expect(other.REDIS_URL).toBeUndefined();
    expect(other.DATABASE_URL).toBeUndefined();
    // The service's image runs its migrations; its manifests gained Redis; payments' did not.
    expect(readFileSync(join(users, 'Dockerfile'), 'utf8')).toContain(
      'COPY services/users/drizzle /app/services/users/drizzle',
    );
    expect(existsSync(join(users, 'k8s/redis.yaml'))).toBe(true);
    expect(existsSync(join(root, 'services/payments/k8s/redis.yaml'))).toBe(false);
    const kubectl = binaryPath('kubectl');
    if (kubectl) {
      const built = await execa(kubectl, ['kustomize', 'k8s/'], { cwd: root, reject: false });
      expect(built.exitCode, built.stderr).toBe(0);
      const names = [...built.stdout.matchAll(/^ {2}name: ([\w-]+)$/gm)].map((m) => m[1]);
      expect(names).toEqual(expect.arrayContaining(['users-redis', 'users-worker']));
      expect(names).not.toContain('payments-redis');
    }
    for (const path of snapshot(root).keys()) {
      if (path.startsWith('services/payments/'))
        expect(snapshot(root).get(path), path).toBe(original.get(path));
    }
    expect(existsSync(join(root, JOURNAL_FILE))).toBe(false);

    // As in a single app, postgres is not removed while the user's own example files import it.
    for (const path of ['src/routes/items.ts', 'src/db/schema.ts', 'test/items.test.ts'])
      rmSync(join(users, path));
    const removed = await runCli([
      'remove',
      'redis',
      'postgres',
      'queue',
      '--cwd',
      users,
      '--no-install',
    ]);
    expect(removed.exitCode, removed.stderr).toBe(0);
    const after = snapshot(root);
    // What the features gave the user to own stays: postgres's migrations, queue's example.
    const owned =
      /^services\/users\/(drizzle\/|src\/routes\/reports\.ts$|test\/reports\.test\.ts$)/;
    const left = [...after.keys()].filter((p) => !owned.test(p));
    expect(after.size - left.length).toBeGreaterThan(2);
    expect(left.sort()).toEqual([...original.keys()].sort());
    for (const path of left) expect(after.get(path), path).toBe(original.get(path));
  }, 120_000);

  it('a root compose file the user edited is a conflict: exit 1, nothing written; --force keeps theirs as .orig', async () => {
    const root = await createWorkspace('mall', 'docker,nginx');
    appendFileSync(join(root, 'docker-compose.yml'), '# my note\n');
    const before = snapshot(root);
    const users = join(root, 'services/users');

    const refused = await runCli(['add', 'redis', '--cwd', users, '--no-install']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('docker-compose.yml');
    expect(snapshot(root)).toEqual(before);

    const forced = await runCli(['add', 'redis', '--cwd', users, '--no-install', '--force']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(readFileSync(join(root, 'docker-compose.yml.orig'), 'utf8')).toBe(
      before.get('docker-compose.yml'),
    );
    expect(composeOf(root).services.users.environment.REDIS_URL).toMatch(/@redis:6379$/);
  }, 60_000);

  it("a run cut short at the workspace's root is rolled back by the next add in a service", async () => {
    const root = await createWorkspace('souk', 'docker');
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    // As a hard kill leaves it: the journal written, the root compose half-changed.
    await writeJournal(root, 'add', [
      { path: 'docker-compose.yml', action: 'update', content: 'half' },
    ]);
    writeFileSync(join(root, 'docker-compose.yml'), 'services: {half');
    const added = await runCli(['add', 'redis', '--cwd', 'services/users', '--no-install'], {
      cwd: root,
    });
    expect(added.exitCode, added.stderr).toBe(0);
    expect(`${added.stdout}${added.stderr}`).toMatch(/"add" was interrupted/);
    expect(existsSync(join(root, JOURNAL_FILE))).toBe(false);
    const doc = composeOf(root);
    assertValidCompose(doc);
    expect(doc.services.users.environment.REDIS_URL).toMatch(/@redis:6379$/);
    const removed = await runCli(['remove', 'redis', '--cwd', 'services/users', '--no-install'], {
      cwd: root,
    });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(readFileSync(join(root, 'docker-compose.yml'), 'utf8')).toBe(compose);
  }, 60_000);

  it('metrics: one Prometheus and one Grafana for the services that have it, following add and remove', async () => {
    const root = await createWorkspace('bazaar', 'docker,haproxy');
    const jobs = () =>
      (
        parseYaml(readFileSync(join(root, 'monitoring/prometheus.yml'), 'utf8')) as {
          scrape_configs: { job_name: string }[];
        }
      ).scrape_configs.map((job) => job.job_name);
    const original = snapshot(root);

    const one = await runCli(['add', 'metrics', '--cwd', 'services/users', '--no-install'], {
      cwd: root,
    });
    expect(one.exitCode, one.stderr).toBe(0);
    expect(jobs()).toEqual(['users']);
    await expectPromtoolPasses(root, 1);
    const two = await runCli(['add', 'metrics', '--cwd', 'services/payments', '--no-install'], {
      cwd: root,
    });
    expect(two.exitCode, two.stderr).toBe(0);
    expect(jobs()).toEqual(['users', 'payments']);
    await expectPromtoolPasses(root, 2);
    const compose = composeOf(root);
    assertValidCompose(compose);
    await expectComposeConfigPasses(root);
    expect(Object.keys(compose.services.prometheus.depends_on)).toEqual(['users', 'payments']);
    expect(compose.services.grafana.volumes).toEqual(
      expect.arrayContaining([
        './services/users/monitoring/grafana/dashboards:/etc/grafana/dashboards/users:ro',
        './services/payments/monitoring/grafana/dashboards:/etc/grafana/dashboards/payments:ro',
      ]),
    );

    for (const service of ['users', 'payments']) {
      const gone = await runCli(
        ['remove', 'metrics', '--cwd', `services/${service}`, '--no-install'],
        {
          cwd: root,
        },
      );
      expect(gone.exitCode, gone.stderr).toBe(0);
    }
    expect(snapshot(root)).toEqual(original);

    // `service remove` of the one service with metrics: the root's monitoring goes with it.
    const again = await runCli(['add', 'metrics', '--cwd', 'services/users', '--no-install'], {
      cwd: root,
    });
    expect(again.exitCode, again.stderr).toBe(0);
    const dropped = await runCli(['service', 'remove', 'users', '--force', '--no-install'], {
      cwd: root,
    });
    expect(dropped.exitCode, dropped.stderr).toBe(0);
    expect([...snapshot(root).keys()].filter((p) => p.startsWith('monitoring/'))).toEqual([]);
    expect(Object.keys(composeOf(root).services)).toEqual(['payments', 'gateway']);
  }, 120_000);
});
