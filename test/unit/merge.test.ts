import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mergeStrategies } from '../../src/merge/strategies.js';
import { applyToObject, diff } from '../../src/merge/patch.js';

const merge =
  (file: string) =>
  async (current: string, before: string, after: string): Promise<string> =>
    mergeStrategies[file]!(current, before, after);

describe('structured three-way merges', () => {
  it('patches only what changed between two generated versions', async () => {
    const before = { a: 1, deps: { x: '1' } };
    const after = { a: 1, deps: { x: '1', y: '2' } };
    expect(diff(before, after)).toEqual([{ path: ['deps', 'y'], value: '2' }]);
    expect(applyToObject({ a: 5, deps: { x: '9' }, mine: true }, diff(before, after))).toEqual({
      a: 5,
      deps: { x: '9', y: '2' },
      mine: true,
    });
  });

  it('package.json: adds and removes generated deps and scripts, keeps the user’s own', async () => {
    const before = JSON.stringify({
      name: 'a',
      scripts: { start: 'node dist/main.js' },
      dependencies: { express: '^5' },
    });
    const after = JSON.stringify({
      name: 'a',
      scripts: { start: 'node dist/main.js', 'start:pm2': 'pm2 start' },
      dependencies: { express: '^5', redis: '^6' },
    });
    const current = JSON.stringify({
      name: 'a',
      description: 'mine',
      scripts: { start: 'node dist/main.js', seed: 'node seed.js' },
      dependencies: { zod: '^4', express: '^5' },
    });
    const merged = JSON.parse(await merge('package.json')(current, before, after));
    expect(merged.description).toBe('mine');
    expect(merged.scripts).toEqual({
      start: 'node dist/main.js',
      seed: 'node seed.js',
      'start:pm2': 'pm2 start',
    });
    expect(Object.keys(merged.dependencies)).toEqual(['express', 'redis', 'zod']);
    // And back: removing the feature removes only what it added.
    const removed = JSON.parse(await merge('package.json')(JSON.stringify(merged), after, before));
    expect(removed.dependencies).toEqual({ express: '^5', zod: '^4' });
    expect(removed.scripts).toEqual({ start: 'node dist/main.js', seed: 'node seed.js' });
  });

  it('.env.example: one paragraph per variable; the user’s variables and comments stay', async () => {
    const before = '# Port\nPORT=3000\n';
    const after = '# Port\nPORT=3000\n\n# Redis\nREDIS_URL=redis://localhost:6379\n';
    const current = '# Port (we use 8080)\nPORT=8080\n\n# Ours\nSECRET=\n';
    const merged = await merge('.env.example')(current, before, after);
    expect(merged).toBe(
      '# Port (we use 8080)\nPORT=8080\n\n# Redis\nREDIS_URL=redis://localhost:6379\n\n# Ours\nSECRET=\n',
    );
    expect(await merge('.env.example')(merged, after, before)).toBe(current);
  });

  it('.env.example: a commented-out variable is a section too, added and removed like the others', async () => {
    const before = '# Port\nPORT=3000\n';
    const after = '# Port\nPORT=3000\n\n# Redis (optional)\n# REDIS_URL=redis://localhost:6379\n';
    const current = '# Port\nPORT=8080\n';
    const merged = await merge('.env.example')(current, before, after);
    expect(merged).toBe(
      '# Port\nPORT=8080\n\n# Redis (optional)\n# REDIS_URL=redis://localhost:6379\n',
    );
    expect(await merge('.env.example')(merged, after, before)).toBe(current);
  });

  it('README.md: replaces and inserts marked sections, keeps free text', async () => {
    const s = (key: string, text: string) =>
      `<!-- section:${key} -->\n${text}\n<!-- /section:${key} -->`;
    const before = `${s('title', '# App')}\n\nIntro\n\n${s('features', 'none')}\n`;
    const after = `${s('title', '# App')}\n\nIntro\n\n${s('features', '- redis')}\n\n${s('redis', '## Redis')}\n`;
    const current = `${s('title', '# App')}\n\nOur own intro, rewritten.\n\n${s('features', 'none')}\n\n## Team notes\n`;
    const merged = await merge('README.md')(current, before, after);
    expect(merged).toContain('Our own intro, rewritten.');
    expect(merged).toContain('## Team notes');
    expect(merged).toContain(s('features', '- redis'));
    expect(merged.indexOf('## Redis')).toBeGreaterThan(merged.indexOf('- redis'));
    expect(merged).not.toContain('Intro\n');
  });

  it('docker-compose.yml: adds and removes services, keeps comments and the user’s services', async () => {
    const before = 'services:\n  app:\n    image: app\n';
    const after = 'services:\n  app:\n    image: app\n  redis:\n    image: redis:7\n';
    const current =
      '# our stack\nservices:\n  app:\n    image: app\n  db: # ours\n    image: postgres:17\n';
    const merged = await merge('docker-compose.yml')(current, before, after);
    expect(merged).toContain('# our stack');
    expect(parse(merged).services).toEqual({
      app: { image: 'app' },
      db: { image: 'postgres:17' },
      redis: { image: 'redis:7' },
    });
    expect(parse(await merge('docker-compose.yml')(merged, after, before)).services).toEqual({
      app: { image: 'app' },
      db: { image: 'postgres:17' },
    });
  });
});
