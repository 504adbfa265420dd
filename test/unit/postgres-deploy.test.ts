/**
 * The postgres feature's deployment files, rendered in memory (compose) and built with kustomize
 * (kubectl's; locally skipped without kubectl, required under CI): the Compose file validates
 * against the Compose schema, the migrate Job and the CloudNativePG component build into valid
 * objects that give the app its two URLs.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderProject } from '../../src/render/render.js';
import { commitChanges } from '../../src/tree/commit.js';
import { planChanges } from '../../src/tree/plan.js';
import { hasBinary } from '../helpers/binaries.js';
import { assertValidCompose } from '../helpers/compose-schema.js';
import { parseYamlDocuments, validateK8sObject, type K8sObject } from '../helpers/k8s.js';

const NAME = 'pgdeploy';
const input = (features: string[]) => ({
  name: NAME,
  port: 3000,
  packageManager: 'npm' as const,
  features,
});
const parent = mkdtempSync(join(tmpdir(), 'cse-pg-deploy-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

interface Service {
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}

describe('postgres in docker-compose.yml', () => {
  it('a primary, a replica from pg_basebackup and a migrate step the app waits for', async () => {
    const tree = await renderProject(input(['postgres', 'docker']));
    const doc = parse(tree.get('docker-compose.yml')!) as {
      services: Record<string, Service>;
      volumes: Record<string, unknown>;
    };
    assertValidCompose(doc);
    const { app, postgres, migrate } = doc.services;
    const replica = doc.services['postgres-replica']!;
    expect(app!.depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    // The same command as `npm run db:migrate`, as an argv.
    const scripts = (JSON.parse(tree.get('package.json')!) as { scripts: Record<string, string> })
      .scripts;
    expect(migrate!.command?.join(' ')).toBe(scripts['db:migrate']);
    expect(app!.environment?.DATABASE_REPLICA_URLS).toContain('@postgres-replica:5432/');
    // Every password from the environment, required (`:?`): no default a deploy could keep.
    for (const value of [
      app!.environment!.DATABASE_URL!,
      migrate!.environment!.DATABASE_URL!,
      postgres!.environment!.POSTGRES_PASSWORD!,
      replica.environment!.REPLICATION_PASSWORD!,
    ])
      expect(value).toMatch(/\$\{POSTGRES_(REPLICATION_)?PASSWORD:\?[^}]+\}/);
    // The scripts the services mount are in the project.
    for (const volume of [...postgres!.volumes!, ...replica.volumes!]) {
      const source = volume.split(':')[0]!;
      if (source.startsWith('./')) expect(tree.has(source.slice(2)), source).toBe(true);
    }
    expect(replica.entrypoint).toEqual(['sh', '/usr/local/bin/replica-entrypoint.sh']);
    expect(Object.keys(doc.volumes)).toEqual(['postgres-data', 'postgres-replica-data']);
    // The image has the migrations the migrate service applies.
    expect(tree.get('Dockerfile')).toContain('COPY drizzle ./drizzle');
    expect(tree.get('.env.example')).toContain('# POSTGRES_REPLICATION_PASSWORD=');
  });

  it('without docker: no scripts, no compose passwords', async () => {
    const tree = await renderProject(input(['postgres']));
    expect([...tree.keys()].filter((p) => p.startsWith('docker/'))).toEqual([]);
    expect(tree.get('.env.example')).not.toContain('POSTGRES_PASSWORD');
  });
});

const kubectl = hasBinary('kubectl');

describe('postgres in the Kubernetes manifests', () => {
  async function build(enableCluster: boolean): Promise<K8sObject[]> {
    const dir = join(parent, enableCluster ? 'cluster' : 'plain');
    const plan = await planChanges({
      target: input(['postgres', 'kubernetes']),
      readCurrent: async () => undefined,
      force: false,
    });
    await commitChanges(dir, plan.changes);
    const file = join(dir, 'k8s/kustomization.yaml');
    const text = readFileSync(file, 'utf8');
    if (enableCluster) {
      // As the user enables it: the two commented lines the kustomization shows.
      const enabled = text
        .replace('# components:\n', 'components:\n')
        .replace('#   - postgres-cluster', '  - postgres-cluster');
      expect(enabled).toContain('components:\n');
      writeFileSync(file, enabled);
    }
    const { stdout } = await execa('kubectl', ['kustomize', join(dir, 'k8s')], { timeout: 60_000 });
    return parseYamlDocuments(stdout, 'kustomize output').map((doc) => {
      const o = doc as K8sObject;
      // A custom resource: kubernetes-models has no schema for it (checked by hand below).
      return o.kind === 'Cluster' ? o : validateK8sObject(doc, 'kustomize output');
    });
  }
  type Container = { name: string; command?: string[]; env?: { name: string; value?: string }[] };
  const containers = (o: K8sObject | undefined): Container[] =>
    (o as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template
      .spec.containers;

  it.skipIf(!kubectl)('a migrate Job from the app image, with the Secret', async () => {
    const objects = await build(false);
    const job = objects.find((o) => o.kind === 'Job');
    expect(job?.metadata.name).toBe(`${NAME}-migrate`);
    expect(containers(job)[0]?.command).toEqual(['node', 'dist/features/postgres/migrate.js']);
    expect(objects.some((o) => o.kind === 'Cluster')).toBe(false);
  });

  it.skipIf(!kubectl)(
    'the CloudNativePG component: its -rw and -ro services feed the URLs',
    async () => {
      const objects = await build(true);
      const cluster = objects.find((o) => o.kind === 'Cluster');
      expect(cluster).toMatchObject({
        apiVersion: 'postgresql.cnpg.io/v1',
        metadata: { name: `${NAME}-db` },
        spec: { instances: 2, bootstrap: { initdb: { database: 'app', owner: 'app' } } },
      });
      for (const [kind, name] of [
        ['Deployment', NAME],
        ['Job', `${NAME}-migrate`],
      ]) {
        const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
        const env = Object.fromEntries(
          (containers(object)[0]?.env ?? []).map((e) => [e.name, e.value]),
        );
        expect(env.DATABASE_URL, kind).toBe(
          `postgres://app:$(DATABASE_PASSWORD)@${NAME}-db-rw:5432/app`,
        );
        expect(env.DATABASE_REPLICA_URLS, kind).toBe(
          `postgres://app:$(DATABASE_PASSWORD)@${NAME}-db-ro:5432/app`,
        );
      }
    },
  );
});
