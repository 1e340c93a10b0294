import { defineConfig } from 'drizzle-kit';

/**
 * Commands that connect to a database get exactly the one DATABASE_URL names: no fallback, so a
 * migrate with the variable unset fails instead of "succeeding" against some other database.
 * `db:generate` only compares the schema with the migrations folder and needs none.
 */
const CONNECTING_COMMANDS = new Set(['migrate', 'push', 'pull', 'introspect', 'studio', 'drop', 'up']);
const command = process.argv.find((arg) => CONNECTING_COMMANDS.has(arg));
const url = process.env.DATABASE_URL ?? '';
if (command && url.trim() === '') {
  throw new Error(
    `drizzle-kit ${command} needs DATABASE_URL: set it to the database to ${command} (e.g. DATABASE_URL=postgresql://… npm run db:migrate).`,
  );
}

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
  dbCredentials: { url },
});
