import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
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
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
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
