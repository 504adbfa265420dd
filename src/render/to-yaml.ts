/**
 * Block-style YAML for plain data (objects, arrays, strings, numbers, booleans, null), written the
 * way the `yaml` package writes it with `{ lineWidth: 0, singleQuote: true, version: '1.1' }`, for
 * docker-compose.yml. Loading and running `yaml`'s stringify was about a tenth of a full-preset
 * `create`'s CPU; this is a few dozen lines. test/unit/to-yaml.test.ts checks it against `yaml`
 * byte for byte on every compose file the features make, and that tricky strings read back as
 * they went in.
 */

/**
 * Strings a YAML 1.1 or 1.2 reader would take for something else (null, bool, number, timestamp):
 * compose files are read by both kinds.
 */
const NOT_A_STRING = [
  /^(?:~|null|Null|NULL)$/,
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^[-+]?0b[01_]+$/,
  /^[-+]?0[0-7_]+$/,
  /^0o[0-7]+$/,
  /^[-+]?(?:0|[1-9][0-9_]*)$/,
  /^[-+]?0x[0-9a-fA-F_]+$/,
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/,
  /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?$/,
  /^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/,
  /^[-+]?\.(?:inf|Inf|INF)$/,
  /^\.(?:nan|NaN|NAN)$/,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/,
  /^<<$/,
];

/** Plain (unquoted) YAML cannot start, end or contain these where a reader looks for syntax. */
const NEEDS_QUOTES =
  /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;

function scalarString(value: string): string {
  if (value === '' || NEEDS_QUOTES.test(value) || NOT_A_STRING.some((re) => re.test(value))) {
    return quoted(value);
  }
  // Anything outside printable ASCII goes quoted: plain only where it is unambiguous.
  return /^[\x20-\x7e]+$/.test(value) ? value : quoted(value);
}

function quoted(value: string): string {
  // Single quotes, as the project's prettier style; double ones (whose escapes JSON's are a
  // subset of) for a string with a single quote, a line break or a control character.
  const needsEscapes = [...value].some((c) => c === "'" || c < ' ' || c === '\x7f');
  if (needsEscapes) return JSON.stringify(value);
  return `'${value}'`;
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return scalarString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TypeError(`to-yaml: cannot write a ${typeof value}`);
}

const isCollection = (value: unknown): value is object =>
  typeof value === 'object' && value !== null;
const isEmpty = (value: object): boolean =>
  Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;

/** `value` after a key or a dash: inline when a scalar or empty, else on the next lines. */
function after(value: unknown, indent: string): string {
  if (!isCollection(value)) return ` ${scalar(value)}\n`;
  if (isEmpty(value)) return Array.isArray(value) ? ' []\n' : ' {}\n';
  return `\n${block(value, indent)}`;
}

function block(value: object, indent: string): string {
  let out = '';
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      if (isCollection(item) && !isEmpty(item)) {
        // The first line of a nested collection goes on the dash's line.
        out += `${indent}- ${block(item, `${indent}  `).slice(indent.length + 2)}`;
      } else {
        out += `${indent}-${after(item, `${indent}  `)}`;
      }
    }
    return out;
  }
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    out += `${indent}${scalarString(key)}:${after(item, `${indent}  `)}`;
  }
  return out;
}

/** The YAML document for `value`, a plain object. */
export function toYaml(value: Record<string, unknown>): string {
  return isEmpty(value) ? '{}\n' : block(value, '');
}
