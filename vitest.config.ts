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
          OPENAI_API_KEY: 'sk-test-not-a-real-key',
          OPENAI_BASE_URL: inject('openaiUrl'),
          ADMIN_TOKEN: 'test-admin-token',
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
