/**
 * The order of project paths in the rendered tree and the manifest: the order
 * `a.localeCompare(b)` gives in English, without asking ICU. The first localeCompare of a process
 * builds ICU's collator, which cost more CPU than rendering all of a full project's templates.
 *
 * For paths made of ASCII letters, digits and `_ - . /` (every generated path), that order is:
 * characters compared by primary weight, `_` < `-` < `.` < `/` < digits < letters, a letter's
 * case ignored; a path that is a prefix of another first; then, only between paths equal so far,
 * lower case before upper case at the first place they differ. Any other path is left to
 * localeCompare. test/unit/path-order.test.ts checks the two agree.
 */
const SIMPLE = /^[A-Za-z0-9_./-]*$/;

/** Primary weights by character code: the characters of ORDER, a letter's upper case as its lower. */
const ORDER = '_-./0123456789abcdefghijklmnopqrstuvwxyz';
const WEIGHT = new Uint8Array(128);
for (const [i, c] of [...ORDER].entries()) {
  WEIGHT[c.charCodeAt(0)] = i + 1;
  WEIGHT[c.toUpperCase().charCodeAt(0)] = i + 1;
}
const isUpper = (code: number): boolean => code >= 65 && code <= 90;

export function comparePaths(a: string, b: string): number {
  if (!SIMPLE.test(a) || !SIMPLE.test(b)) return a.localeCompare(b);
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    const d = WEIGHT[a.charCodeAt(i)]! - WEIGHT[b.charCodeAt(i)]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  for (let i = 0; i < shorter; i++) {
    const [upperA, upperB] = [isUpper(a.charCodeAt(i)), isUpper(b.charCodeAt(i))];
    if (upperA !== upperB) return upperA ? 1 : -1;
  }
  return 0;
}
