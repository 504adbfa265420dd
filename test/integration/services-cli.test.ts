/** `create --services` and `service list` through the built CLI, without installing anything. */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('create --services (CLI)', () => {
  const parent = tempDir();

  it.each([
    [['--services', 'Users'], /Invalid service name "Users"/],
    [['--services', 'users,users'], /names "users" twice/],
    // Launched by Yarn 1 (`yarn create`): its version comes from the user agent.
    [['--services', 'users', '--pm', 'yarn'], /needs Yarn 2 or later/, 'yarn/1.22.22 node/v24'],
  ])('%j: one line, exit 2, nothing written', async (args, message, agent?: string) => {
    const result = await runCli(['shop', ...args, '--yes', '--json'], {
      cwd: parent,
      env: { npm_config_user_agent: agent },
    });
    expect(result.exitCode).toBe(2);
    const doc = JSON.parse(result.stdout) as { ok: boolean; error: { message: string } };
    expect(doc.ok).toBe(false);
    expect(doc.error.message).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(parent, 'shop'))).toBe(false);
  });

  it('--dry-run --json lists the workspace and writes nothing; service list refuses outside one', async () => {
    const result = await runCli(
      [
        'shop',
        '--services',
        'users,payments',
        '--features',
        'nginx',
        '--dry-run',
        '--json',
        '--yes',
      ],
      { cwd: parent },
    );
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      kind: string;
      services: { name: string; port: number }[];
      deployment: string[];
      files: { path: string }[];
    };
    expect(doc.kind).toBe('workspace');
    expect(doc.services.map((s) => s.name)).toEqual(['users', 'payments']);
    expect(doc.deployment).toEqual(['nginx']);
    const paths = doc.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'gateway/nginx.conf',
        'packages/service-client/src/index.ts',
        'services/users/.scalable-express.json',
        'services/payments/src/routes/payments.ts',
        '.scalable-express-workspace.json',
      ]),
    );
    expect(existsSync(join(parent, 'shop'))).toBe(false);

    const list = await runCli(['service', 'list', '--json'], { cwd: parent });
    expect(list.exitCode).toBe(2);
    expect(list.stderr).toMatch(/is not inside a workspace/);
  });

  it('service add: dry run writes nothing; an edited gateway is a conflict unless --force; then the service is there', async () => {
    const made = await runCli(
      ['mall', '--services', 'users', '--features', 'nginx', '--no-install', '--no-git', '--yes'],
      { cwd: parent },
    );
    expect(made.exitCode).toBe(0);
    const root = join(parent, 'mall');
    const gateway = join(root, 'gateway/nginx.conf');
    const manifest = (): string =>
      readFileSync(join(root, '.scalable-express-workspace.json'), 'utf8');
    const before = manifest();

    const dry = await runCli(['service', 'add', 'orders', '--dry-run', '--json'], { cwd: root });
    expect(dry.exitCode).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ service: { name: 'orders', port: 3001 } });
    expect(existsSync(join(root, 'services/orders'))).toBe(false);
    expect(manifest()).toBe(before);

    appendFileSync(gateway, '# my own line\n');
    const edited = readFileSync(gateway, 'utf8');
    const refused = await runCli(['service', 'add', 'orders', '--no-install'], { cwd: root });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/A file you edited must change: gateway\/nginx.conf/);
    expect(existsSync(join(root, 'services/orders'))).toBe(false);
    expect(readFileSync(gateway, 'utf8')).toBe(edited);

    const forced = await runCli(
      ['service', 'add', 'orders', '--no-install', '--force', '--cwd', 'services/users'],
      { cwd: root },
    );
    expect(forced.exitCode).toBe(0);
    expect(readFileSync(`${gateway}.orig`, 'utf8')).toBe(edited);
    expect(readFileSync(gateway, 'utf8')).toContain('location /orders/');
    expect(existsSync(join(root, 'services/orders/.scalable-express.json'))).toBe(true);
    const list = await runCli(['service', 'list', '--json'], {
      cwd: join(root, 'services/orders'),
    });
    const services = (JSON.parse(list.stdout) as { services: { name: string }[] }).services;
    expect(services.map((s) => s.name)).toEqual(['users', 'orders']);
    expect(existsSync(join(root, '.scalable-express.journal.json'))).toBe(false);
    expect(existsSync(join(root, '.scalable-express.lock'))).toBe(false);
  });

  it('service remove: --dry-run lists, nothing without --force, then the folder, route and entry go', async () => {
    const made = await runCli(
      [
        'market',
        '--services',
        'users,orders',
        '--features',
        'nginx',
        '--no-install',
        '--no-git',
        '--yes',
      ],
      { cwd: parent },
    );
    expect(made.exitCode).toBe(0);
    const root = join(parent, 'market');
    const gateway = join(root, 'gateway/nginx.conf');
    expect(readFileSync(gateway, 'utf8')).toContain('location /orders/');

    const dry = await runCli(['service', 'remove', 'orders', '--dry-run', '--json'], { cwd: root });
    expect(dry.exitCode).toBe(0);
    const files = (JSON.parse(dry.stdout) as { files: { path: string; action: string }[] }).files;
    expect(files).toContainEqual(
      expect.objectContaining({ path: 'services/orders/src/app.ts', action: 'delete' }),
    );
    expect(files).toContainEqual(
      expect.objectContaining({ path: 'gateway/nginx.conf', action: 'update' }),
    );
    expect(existsSync(join(root, 'services/orders/src/app.ts'))).toBe(true);

    const refused = await runCli(['service', 'remove', 'orders', '--no-install'], { cwd: root });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/deletes services\/orders with its code/);
    expect(existsSync(join(root, 'services/orders/src/app.ts'))).toBe(true);

    const removed = await runCli(['service', 'remove', 'orders', '--force', '--no-install'], {
      cwd: root,
    });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(existsSync(join(root, 'services/orders'))).toBe(false);
    expect(readFileSync(gateway, 'utf8')).not.toContain('/orders/');
    expect(readFileSync(join(root, '.scalable-express-workspace.json'), 'utf8')).not.toContain(
      'orders',
    );
    const last = await runCli(['service', 'remove', 'users', '--force'], { cwd: root });
    expect(last.exitCode).toBe(2);
    expect(last.stderr).toMatch(/only service/);
    expect(existsSync(join(root, 'services/users/src/app.ts'))).toBe(true);
  });
});

describe('add inside a service of a workspace', () => {
  it('refuses a deployment feature (it belongs to the workspace) in one line, exit 2, nothing written; an in-app feature is added', async () => {
    const parent = tempDir();
    const made = await runCli(
      ['mall', '--services', 'users', '--no-install', '--no-git', '--yes'],
      { cwd: parent },
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const service = join(parent, 'mall/services/users');
    const before = readFileSync(join(service, '.scalable-express.json'), 'utf8');
    const refused = await runCli(['add', 'docker', '--cwd', service, '--no-install']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/docker belong to the workspace/);
    expect(existsSync(join(service, 'Dockerfile'))).toBe(false);
    expect(readFileSync(join(service, '.scalable-express.json'), 'utf8')).toBe(before);
    const added = await runCli(['add', 'metrics', '--cwd', service, '--no-install']);
    expect(added.exitCode, added.stderr).toBe(0);
  });
});
