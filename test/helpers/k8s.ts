import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { execa } from 'execa';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as parsed from YAML. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

// The kinds the generated manifests may use, each with its kubernetes-models class: validate()
// checks the object against the Kubernetes OpenAPI schema and throws on any error.
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/** Every document of a YAML file; throws on YAML errors. */
export function parseYamlDocuments(text: string, name: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0)
      throw new Error(`${name}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as unknown;
  });
}

/** Validates one object against its kind's OpenAPI schema; throws naming the object. */
export function validateK8sObject(obj: unknown, source: string): K8sObject {
  const o = obj as K8sObject;
  const Model = models[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`${source}: unexpected kind ${o.apiVersion}/${o.kind}`);
  try {
    new Model(o as never).validate();
  } catch (error) {
    throw new Error(`${source}: ${o.kind} ${o.metadata.name} is invalid: ${String(error)}`, {
      cause: error,
    });
  }
  return o;
}

// The TypeScript interface of each kind, from the same OpenAPI definitions (kubernetes-models).
const interfaces: Record<string, { module: string; type: string }> = {
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'batch/v1/Job': { module: 'kubernetes-models/batch/v1/Job', type: 'IJob' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': {
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
  'networking.k8s.io/v1/Ingress': {
    module: 'kubernetes-models/networking.k8s.io/v1/Ingress',
    type: 'IIngress',
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    type: 'INetworkPolicy',
  },
};

/**
 * The schema validation accepts unknown fields (as the API server does without strict field
 * validation), so a misspelt `readinesProbe` would pass it. TypeScript's excess-property check
 * does not: each object is written as a literal of its kind's interface and compiled with tsc.
 * Returns tsc's output (empty when every object is exact).
 */
export async function typecheckK8sObjects(
  objects: readonly K8sObject[],
  workDir: string,
): Promise<string> {
  await mkdir(workDir, { recursive: true });
  await symlink(join(process.cwd(), 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const used = new Set<string>();
  const lines = objects.map((o, i) => {
    const iface = interfaces[`${o.apiVersion}/${o.kind}`];
    if (!iface) throw new Error(`no interface for ${o.apiVersion}/${o.kind}`);
    used.add(`import type { ${iface.type} } from '${iface.module}';`);
    return `export const o${i}: ${iface.type} = ${JSON.stringify(o)};`;
  });
  await writeFile(join(workDir, 'check.ts'), [...used, ...lines].join('\n'));
  const tsc = join(process.cwd(), 'node_modules', '.bin', 'tsc');
  const result = await execa(
    tsc,
    [
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      'check.ts',
    ],
    { cwd: workDir, reject: false, all: true },
  );
  return result.exitCode === 0 ? '' : String(result.all);
}
