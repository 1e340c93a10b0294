import { sql } from 'drizzle-orm';
import { doublePrecision, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz, updatedAt } from './columns';
import { organizations } from './organizations';

export const personas = pgTable(
  'personas',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    avatarUrl: text('avatar_url'),
    description: text('description'),
    /** The system prompt. */
    instructions: text('instructions').notNull().default(''),
    /** Provider model id; null means the deployment's DEFAULT_MODEL. */
    model: text('model'),
    temperature: doublePrecision('temperature'),
    maxOutputTokens: integer('max_output_tokens'),
    greeting: text('greeting'),
    /** Bumped by every update; assistant messages record the version they were generated with. */
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** Soft delete: conversations with a deleted persona stay readable. */
    deletedAt: timestamptz('deleted_at'),
  },
  (t) => [index('personas_organization_idx').on(t.organizationId, t.createdAt).where(sql`${t.deletedAt} is null`)],
);
