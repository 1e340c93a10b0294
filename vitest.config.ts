import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/** Tests run inside workerd (the Workers runtime) against a real database and model server. */
export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          DATABASE_URL: inject('databaseUrl'),
          LOCAL_SQL_ENDPOINT: inject('sqlEndpoint'),
          LOCAL_DEV_SECRET: inject('localDevSecret'),
          OPENAI_API_KEY: 'sk-test-not-a-real-key',
          OPENAI_BASE_URL: inject('openaiUrl'),
          // Tests that unset OPENAI_API_KEY get the offline model, as `npm run dev` does.
          OFFLINE_MODEL: '1',
          // At least 32 characters: shorter admin tokens are refused.
          ADMIN_TOKEN: 'test-admin-token-0123456789abcdef-long-enough',
          // Many tests send wrong keys from the same (absent) client IP; test/throttle.test.ts sets its own.
          AUTH_FAILURES_PER_MINUTE: '100000',
          VISITOR_TOKEN_SECRET: 'test-visitor-token-secret-0123456789',
          MODEL_TIMEOUT_MS: '10000',
          MODEL_MAX_RETRIES: '2',
          TEST_DATABASE_KIND: inject('databaseKind'),
        },
      },
    })),
  ],
  test: {
    globalSetup: ['./test/node/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
