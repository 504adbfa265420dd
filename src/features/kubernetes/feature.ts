import type { Feature } from '../types.js';

export const kubernetes: Feature = {
  id: 'kubernetes',
  title: 'Kubernetes',
  description:
    'Kustomize manifests: Deployment with probes, Service, HPA, PDB, ConfigMap, Secret, Ingress.',
};
