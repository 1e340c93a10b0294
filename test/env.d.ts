import type { Env as AppEnv } from '../src/env';

declare global {
  namespace Cloudflare {
    interface Env extends AppEnv {
      TEST_DATABASE_KIND: string;
    }
  }
}

/** Vite's `?raw` imports: a file's text (used to check the README against the code). */
declare module '*?raw' {
  const text: string;
  export default text;
}
