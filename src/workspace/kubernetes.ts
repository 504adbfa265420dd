import type { WorkspaceService } from './manifest.js';
import { IMAGE_TAG, imageName } from './docker.js';
import type { WorkspaceInput } from './render.js';
import { renderAsSingleApp, urlVariable } from './service-project.js';

/**
 * Kubernetes in a workspace: each service keeps the single-app feature's manifests in its own
 * services/<name>/k8s/ (Deployment, Service, HPA, PDB, ConfigMap…: the same templates, rendered
 * with the service's name and port), and the root k8s/ gathers them with one Ingress routing
 * /<service>/… to each, prefix stripped like the gateway.
 */

const SINGLE_INGRESS =
  /# Uncomment to route outside traffic[^\n]*\n(?:#[^\n]*\n)*?# {3}- ingress\n/;

/** services/<name>/k8s/…: the single app's manifests, without its own Ingress component. */
export async function serviceManifests(
  input: WorkspaceInput,
  service: WorkspaceService,
): Promise<Map<string, string>> {
  const single = await renderAsSingleApp(input, service, ['kubernetes']);
  const files = new Map<string, string>();
  for (const [path, content] of single) {
    if (!path.startsWith('k8s/') || path.startsWith('k8s/ingress/')) continue;
    files.set(path, content);
  }
  const kustomization = files.get('k8s/kustomization.yaml') ?? '';
  if (!SINGLE_INGRESS.test(kustomization)) {
    throw new Error(
      'k8s/kustomization.yaml no longer offers the ingress component: update workspace/kubernetes.ts',
    );
  }
  files.set(
    'k8s/kustomization.yaml',
    kustomization.replace(
      SINGLE_INGRESS,
      `# Outside traffic reaches this service through the workspace's Ingress (k8s/ at the root),\n# which sets TRUST_PROXY=1 and the other services' URLs.\n# components:\n`,
    ),
  );
  return files;
}

/** The root k8s/: a kustomization of every service plus the Ingress. */
export function workspaceManifests(input: WorkspaceInput): Map<string, string> {
  return new Map([
    ['k8s/kustomization.yaml', rootKustomization(input)],
    ['k8s/ingress.yaml', ingress(input)],
  ]);
}

function rootKustomization(input: WorkspaceInput): string {
  const lines = [
    '# Every service of the workspace and the Ingress in front of them.',
    '# Build: kubectl kustomize k8s/   Apply: kubectl apply -k k8s/',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'labels:',
    '  - pairs:',
    `      app.kubernetes.io/part-of: ${input.name}`,
    'resources:',
    ...input.services.map((s) => `  - ../services/${s.name}/k8s`),
    '  - ingress.yaml',
    '# Each service: the ingress controller is the one proxy in front (TRUST_PROXY=1), and the',
    '# others are reached through their Services (port 80), as the service client reads them.',
    'patches:',
  ];
  for (const service of input.services) {
    lines.push(
      '  - patch: |-',
      '      apiVersion: v1',
      '      kind: ConfigMap',
      '      metadata:',
      `        name: ${service.name}-config`,
      '      data:',
      "        TRUST_PROXY: '1'",
      ...input.services
        .filter((other) => other !== service)
        .map((other) => `        ${urlVariable(other.name)}: http://${other.name}`),
    );
  }
  lines.push('images:');
  for (const service of input.services) {
    lines.push(
      `  - name: ${service.name}`,
      `    newName: ${imageName(input.name, service.name)} # your registry, e.g. ghcr.io/you/${imageName(input.name, service.name)}`,
      `    newTag: '${IMAGE_TAG}' # the release you deploy: a version or a digest, never latest`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function ingress(input: WorkspaceInput): string {
  const lines = [
    '# /<service>/<rest> → the <service> Service as /<rest>: the prefix is stripped, as the',
    "# workspace's gateway does, so a service answers the same paths everywhere. Written for the",
    '# ingress-nginx controller (regex paths and rewrite-target); edit the host first.',
    'apiVersion: networking.k8s.io/v1',
    'kind: Ingress',
    'metadata:',
    `  name: ${input.name}`,
    '  labels:',
    `    app.kubernetes.io/name: ${input.name}`,
    '  annotations:',
    "    nginx.ingress.kubernetes.io/use-regex: 'true'",
    '    nginx.ingress.kubernetes.io/rewrite-target: /$2',
    'spec:',
    '  ingressClassName: nginx',
    '  rules:',
    `    - host: ${input.name}.example.com`,
    '      http:',
    '        paths:',
  ];
  for (const service of input.services) {
    lines.push(
      `          - path: /${service.name}(/|$)(.*)`,
      '            pathType: ImplementationSpecific',
      '            backend:',
      '              service:',
      `                name: ${service.name}`,
      '                port:',
      '                  name: http',
    );
  }
  return `${lines.join('\n')}\n`;
}
