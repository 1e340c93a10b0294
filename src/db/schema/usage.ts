import { bigint, date, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { organizations } from './organizations';

/** Model calls per organization per UTC day, for the daily cap (model calls cost money). */
export const usageCounters = pgTable(
  'usage_counters',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    modelCalls: integer('model_calls').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.day] })],
);

/**
 * What an organization used, per UTC day and persona, for its own billing and dashboards. Each
 * counter is added to by the statement that does the work it counts (the session insert, the
 * turn's first statement, the reply's last), never by scanning messages, so a read is one index
 * range however busy the organization is. Model calls are also counted per organization in
 * `usage_counters`: that one row is what the daily cap locks and compares against, atomically;
 * the per-persona rows here would need a sum under a lock to do the same.
 *
 * `persona_id` has no foreign key on purpose: usage outlives the persona it was spent on.
 */
export const usageDaily = pgTable(
  'usage_daily',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    personaId: text('persona_id').notNull(),
    sessionsStarted: integer('sessions_started').notNull().default(0),
    /** Messages sent into sessions (any role the caller sends), not greetings or replies. */
    messages: integer('messages').notNull().default(0),
    /** Replies finished (complete, failed or stopped), counted when they are finished. */
    replies: integer('replies').notNull().default(0),
    modelCalls: integer('model_calls').notNull().default(0),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    attachmentBytes: bigint('attachment_bytes', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.day, t.personaId] })],
);
