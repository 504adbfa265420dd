/**
 * The payments example imports the shared client by the workspace's scoped name; a longer name
 * (a split project's `<app>-workspace`) must still give a file the service's own
 * `prettier --check` accepts, or the workspace's verify fails at lint.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'prettier';
import { describe, expect, it } from 'vitest';
import { templatesDir } from '../../src/paths.js';
import { renderService } from '../../src/workspace/render.js';

const prettierOptions = JSON.parse(
  readFileSync(join(templatesDir('base'), '.prettierrc.json'), 'utf8'),
) as Record<string, unknown>;

describe('the payments example’s import of the service client', () => {
  it.each(['shop', 'shop-workspace', 'a-rather-long-marketplace-name-workspace'])(
    'is as Prettier prints it for the workspace %s',
    async (name) => {
      const files = await renderService(
        {
          directory: '/nonexistent/cse-client-import-unit',
          name,
          port: 3000,
          packageManager: 'npm',
          services: [{ name: 'payments', port: 3000 }],
          features: [],
          deployment: [],
          force: false,
        },
        { name: 'payments', port: 3000 },
      );
      const source = String(files.get('services/payments/src/routes/payments.ts'));
      expect(source).toContain(`from '@${name}/service-client';`);
      expect(source).toBe(
        await format(source, { ...prettierOptions, filepath: 'src/routes/payments.ts' }),
      );
    },
  );
});
