import { stringify } from 'yaml';
import type { Feature, ProjectContext } from '../features/types.js';

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
  if (!project.has('docker')) return undefined;
  const services: Doc = {};
  const ordered = [...features].sort(
    (a, b) => Number(b.id === 'docker') - Number(a.id === 'docker'),
  );
  for (const feature of ordered) mergeInto(services, feature.composeServices?.(project) ?? {});
  const volumes = namedVolumes(services);
  // singleQuote: the project's prettier style. YAML 1.1 quotes strings such as 'no' or '22:22' that
  // 1.1 parsers would read as booleans or numbers. aliasDuplicateObjects off: mergeInto copies
  // every value, so no object appears twice, and yaml skips a pass over the document looking.
  return stringify(
    volumes.length
      ? { services, volumes: Object.fromEntries(volumes.map((v) => [v, {}])) }
      : { services },
    { lineWidth: 0, singleQuote: true, version: '1.1', aliasDuplicateObjects: false },
  );
}
