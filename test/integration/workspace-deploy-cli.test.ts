/**
 * `create --services` with docker and kubernetes through the built CLI, without installing:
 * the files land where the README says, and `service add` / `service remove` keep compose, the
 * root kustomization and the Ingress in step with the service list.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('create --services with docker and kubernetes (CLI)', () => {
  const parent = tempDir();

  it('writes them at the root and per service; service add and remove follow', async () => {
    const made = await runCli(
      [
        'shop',
        '--services',
        'users,payments',
        '--features',
        'redis,docker,kubernetes,haproxy',
        '--no-install',
        '--no-git',
        '--yes',
      ],
      { cwd: parent },
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const root = join(parent, 'shop');
    const text = (path: string): string => readFileSync(join(root, path), 'utf8');
    const composeServices = (): string[] =>
      Object.keys((parseYaml(text('docker-compose.yml')) as { services: object }).services);
    for (const path of [
      '.dockerignore',
      'docker-compose.yml',
      'k8s/kustomization.yaml',
      'k8s/ingress.yaml',
      'gateway/haproxy.cfg',
      'services/users/Dockerfile',
      'services/payments/k8s/deployment.yaml',
    ])
      expect(existsSync(join(root, path)), path).toBe(true);
    expect(composeServices()).toEqual(['users', 'redis', 'payments', 'gateway']);
    // Deployment stays at the root: no service got a docker-compose.yml of its own.
    expect(existsSync(join(root, 'services/users/docker-compose.yml'))).toBe(false);

    const added = await runCli(['service', 'add', 'orders', '--no-install'], { cwd: root });
    expect(added.exitCode, added.stderr).toBe(0);
    expect(composeServices()).toEqual(['users', 'redis', 'payments', 'orders', 'gateway']);
    expect(text('k8s/kustomization.yaml')).toContain('../services/orders/k8s');
    expect(text('k8s/ingress.yaml')).toContain('/orders(/|$)(.*)');
    expect(text('services/orders/Dockerfile')).toContain('--workspace services/orders');
    expect(existsSync(join(root, 'services/orders/k8s/kustomization.yaml'))).toBe(true);

    const removed = await runCli(['service', 'remove', 'orders', '--force', '--no-install'], {
      cwd: root,
    });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(composeServices()).toEqual(['users', 'redis', 'payments', 'gateway']);
    expect(text('k8s/kustomization.yaml')).not.toContain('orders');
    expect(text('k8s/ingress.yaml')).not.toContain('orders');
    expect(existsSync(join(root, 'services/orders'))).toBe(false);
  }, 60_000);
});
