import type { Feature, ProjectContext } from '../features/types.js';
import { toYaml } from './to-yaml.js';

type Doc = Record<string, unknown>;

function isPlainObject(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges `extra` into `into`: objects key by key, anything else (lists too) replaced. */
function mergeInto(into: Doc, extra: Doc): void {
  for (const [key, value] of Object.entries(extra)) {
    const current = into[key];
    if (isPlainObject(current) && isPlainObject(value)) mergeInto(current, value);
    else into[key] = structuredClone(value);
  }
}

/** The named volumes the services mount (`name:/path`; not `./dir` or `/dir`), to declare. */
function namedVolumes(services: Doc): string[] {
  const names = Object.values(services).flatMap((service) => {
    const volumes = isPlainObject(service) ? service.volumes : undefined;
    return Array.isArray(volumes)
      ? volumes.flatMap((v) =>
          typeof v === 'string' ? (/^([\w][\w.-]*):\//.exec(v)?.[1] ?? []) : [],
        )
      : [];
  });
  return [...new Set(names)].sort();
}

/**
 * docker-compose.yml, from the services every feature contributes; only with `docker`. A feature
 * may add to another's service (redis gives the app its REDIS_URL): the docker feature's services
 * come first, the others are merged into them.
 */
export async function renderCompose(
  project: ProjectContext,
  features: readonly Feature[],
): Promise<string | undefined> {
  const doc = composeDocument(project, features);
  // YAML 1.1's quoting ('no', '22:22' quoted: 1.1 readers take them for a boolean and a number),
  // single quotes as the project's prettier style (src/render/to-yaml.ts).
  return doc && toYaml(doc);
}

/** The compose file's data (undefined without `docker`). */
export function composeDocument(
  project: ProjectContext,
  features: readonly Feature[],
): Doc | undefined {
  if (!project.has('docker')) return undefined;
  const services: Doc = {};
  const ordered = [...features].sort(
    (a, b) => Number(b.id === 'docker') - Number(a.id === 'docker'),
  );
  for (const feature of ordered) mergeInto(services, feature.composeServices?.(project) ?? {});
  const volumes = namedVolumes(services);
  return volumes.length
    ? { services, volumes: Object.fromEntries(volumes.map((v) => [v, {}])) }
    : { services };
}
