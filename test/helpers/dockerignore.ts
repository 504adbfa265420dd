import { cp, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

/**
 * A `.dockerignore` matcher following Docker's rules (moby/patternmatcher): one pattern a line,
 * `#` comments, paths relative to the context root (a leading `/` is dropped), Go `filepath.Match`
 * wildcards (`*` and `?` never cross `/`, `[...]` classes) plus `**` for any number of folders, `!`
 * re-includes, the last matching line wins, and a pattern that matches a folder excludes
 * everything below it.
 */
export interface DockerIgnore {
  ignores(path: string): boolean;
  hasExceptions: boolean;
}

interface Rule {
  regex: RegExp;
  exclusion: boolean;
}

function toRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` also matches no folder at all.
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) throw new Error(`bad .dockerignore pattern ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      re += pattern.charAt(i).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerIgnore(text: string): DockerIgnore {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const exclusion = line.startsWith('!');
    if (exclusion) line = line.slice(1).trim();
    line = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
    if (!line || line === '.') continue;
    rules.push({ regex: toRegex(line), exclusion });
  }
  return {
    hasExceptions: rules.some((r) => r.exclusion),
    ignores(path: string): boolean {
      const parts = path.split('/');
      // The path itself and each of its parent folders.
      const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      let ignored = false;
      for (const rule of rules) {
        if (candidates.some((c) => rule.regex.test(c))) ignored = !rule.exclusion;
      }
      return ignored;
    },
  };
}

/**
 * Copies what `docker build` would send as the build context: every file of `contextDir` that
 * `.dockerignore` does not exclude. Returns the copied paths (relative, with '/').
 */
export async function copyBuildContext(contextDir: string, target: string): Promise<string[]> {
  let text = '';
  try {
    text = await readFile(join(contextDir, '.dockerignore'), 'utf8');
  } catch {
    // no .dockerignore: everything goes
  }
  const matcher = parseDockerIgnore(text);
  const copied: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(contextDir, rel), { withFileTypes: true });
    for (const entry of entries) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const ignored = matcher.ignores(path);
      if (entry.isDirectory()) {
        // An excluded folder can be skipped unless a `!` line might re-include something in it.
        if (ignored && !matcher.hasExceptions) continue;
        await walk(path);
      } else if (!ignored) {
        await mkdir(dirname(join(target, path)), { recursive: true });
        await cp(join(contextDir, path), join(target, path), { verbatimSymlinks: true });
        copied.push(path);
      }
    }
  };
  await mkdir(target, { recursive: true });
  await walk('');
  return copied.sort();
}
