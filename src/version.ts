declare const __CLI_VERSION__: string | undefined;

/** Injected by the bundler (scripts/build.mjs); 'dev' when the sources run directly (tests). */
export const cliVersion: string = typeof __CLI_VERSION__ === 'string' ? __CLI_VERSION__ : 'dev';
