import type { Feature } from '../types.js';

/** The Express 5 + TypeScript app every project gets. Always on; not listed. */
export const base: Feature = {
  id: 'base',
  title: 'Express 5 + TypeScript base app',
  description: 'createApp(), graceful shutdown, health checks, config validation, tests, lint.',
  hidden: true,
  // The example routes and their test: the user's from the start (rendered with the features
  // chosen at create; add and remove leave them alone).
  createOnly: ['src/routes/examples.ts', 'test/examples.test.ts'],
  dependencies: ['express', 'helmet'],
  devDependencies: [
    'typescript',
    '@types/node',
    '@types/express',
    'tsx',
    'vitest',
    'vite',
    'supertest',
    '@types/supertest',
    'eslint',
    '@eslint/js',
    'typescript-eslint',
    'globals',
    'prettier',
  ],
  scripts: () => ({
    // src/main.ts reads .env itself (for npm start too); --include restarts when it changes.
    dev: 'tsx watch --include .env src/main.ts',
    build: 'tsc -p tsconfig.build.json',
    start: 'node dist/main.js',
    test: 'vitest run',
    typecheck: 'tsc --noEmit',
    lint: 'eslint . && prettier --check .',
    format: 'prettier --write .',
  }),
  env: (project) => [
    {
      name: 'NODE_ENV',
      example: 'development',
      comment: 'development | production | test. Unset: production.',
    },
    { name: 'PORT', example: String(project.port), comment: 'Port the HTTP server listens on.' },
    {
      name: 'HOST',
      example: '0.0.0.0',
      comment:
        'Address to bind. Unset: 127.0.0.1 (this machine only) in development, 0.0.0.0 otherwise (containers).',
      commented: true,
    },
    {
      name: 'TRUST_PROXY',
      example: 'false',
      comment:
        'Proxies in front of the app: a hop count such as 1, or false. Never true (spoofable).',
    },
    { name: 'BODY_LIMIT', example: '100kb', comment: 'Largest JSON body accepted.' },
    {
      name: 'SHUTDOWN_TIMEOUT_MS',
      example: '10000',
      comment:
        'On SIGTERM, how long in-flight requests may run before connections are forced closed.',
    },
    { name: 'LOG_LEVEL', example: 'info', comment: 'error | warn | info | http | debug' },
  ],
};
