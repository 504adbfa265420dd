import { describe, expect, it } from 'vitest';
import { detectPackageManager, isOnPath } from '../../src/pm.js';

describe('package manager detection', () => {
  it('reads npm_config_user_agent', () => {
    expect(
      detectPackageManager({ npm_config_user_agent: 'pnpm/9.12.0 npm/? node/v24.1.0 linux x64' }),
    ).toBe('pnpm');
    expect(
      detectPackageManager({ npm_config_user_agent: 'yarn/4.5.0 npm/? node/v24.1.0 linux x64' }),
    ).toBe('yarn');
    expect(
      detectPackageManager({
        npm_config_user_agent: 'npm/11.0.0 node/v24.1.0 linux x64 workspaces/false',
      }),
    ).toBe('npm');
  });

  it('falls back to npm when launched otherwise', () => {
    expect(detectPackageManager({})).toBe('npm');
    expect(detectPackageManager({ npm_config_user_agent: 'bun/1.2.0' })).toBe('npm');
  });

  it('finds executables on PATH', () => {
    expect(isOnPath('node')).toBe(true);
    expect(isOnPath('definitely-not-a-command-xyz')).toBe(false);
  });
});
