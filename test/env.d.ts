import type { Env as AppEnv } from '../src/env';

/**
 * The test pool's `env` and `exports` (from `cloudflare:workers`), typed once for every test: the
 * Worker's env plus the test-only bindings of vitest.config.ts, and the main module's exports
 * (what `wrangler types` declares as GlobalProps; the project's generated file leaves them out).
 */
declare global {
  namespace Cloudflare {
    interface Env extends AppEnv {
      TEST_DATABASE_KIND: string;
    }
    interface GlobalProps {
      mainModule: typeof import('../src/index');
      durableNamespaces: 'ChatSession';
    }
  }
}

/** Vite's `?raw` imports: a file's text (used to check the README against the code). */
declare module '*?raw' {
  const text: string;
  export default text;
}
