import { describe, expect, it } from 'vitest';
import { base } from '../../src/features/base/feature.js';
import type { Feature } from '../../src/features/types.js';
import { projectContext } from '../../src/render/render.js';
import { renderEnvExample } from '../../src/render/env-example.js';

const project = projectContext({ name: 'shop', port: 3000, packageManager: 'npm', features: [] });

describe('.env.example', () => {
  it('comments out a variable the app runs without, keeping its value beside it', () => {
    const cache: Feature = {
      id: 'cache',
      title: 'Cache',
      description: 'test feature',
      env: () => [
        {
          name: 'CACHE_URL',
          example: 'redis://redis:6379',
          comment: 'Needs a server.',
          commented: true,
        },
        { name: 'CACHE_TTL', example: '60', comment: 'Seconds.' },
      ],
    };
    expect(renderEnvExample(project, [cache])).toBe(
      '# Needs a server.\n# CACHE_URL=redis://redis:6379\n\n# Seconds.\nCACHE_TTL=60\n',
    );
  });

  it('leaves HOST unset, so that development binds to loopback only', () => {
    const text = renderEnvExample(project, [base]);
    expect(text).toMatch(/^# HOST=/m);
    expect(text).not.toMatch(/^HOST=/m);
    expect(text).toMatch(/^NODE_ENV=development$/m);
  });
});
