import { sql } from 'drizzle-orm';
import { index, integer, pgEnum, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz, updatedAt } from './columns';
import { organizations } from './organizations';
import { personas } from './personas';

export const platforms = ['WEB', 'API', 'MOBILE', 'WIDGET'] as const;
export const sessionStatuses = ['ACTIVE', 'ARCHIVED'] as const;

export const platformEnum = pgEnum('platform', platforms);
export const sessionStatusEnum = pgEnum('session_status', sessionStatuses);

export const chatSessions = pgTable(
  'chat_sessions',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    personaId: text('persona_id')
      .notNull()
      .references(() => personas.id, { onDelete: 'restrict' }),
    /** The caller's end user; opaque to us. */
    userId: text('user_id'),
    title: text('title'),
    platform: platformEnum('platform').notNull().default('WEB'),
    status: sessionStatusEnum('status').notNull().default('ACTIVE'),
    /** Kept in step with inserts and deletes in the same statement, so listings need no count(*). */
    messageCount: integer('message_count').notNull().default(0),
    /** Last message or reactivation; drives "newest activity first" and idle archival. */
    lastActivityAt: timestamptz('last_activity_at').notNull().defaultNow(),
    archivedAt: timestamptz('archived_at'),
    archiveReason: text('archive_reason'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('chat_sessions_org_activity_idx').on(t.organizationId, t.lastActivityAt.desc(), t.id.desc()),
    index('chat_sessions_org_persona_idx').on(t.organizationId, t.personaId, t.lastActivityAt.desc(), t.id.desc()),
    index('chat_sessions_org_user_idx').on(t.organizationId, t.userId, t.lastActivityAt.desc(), t.id.desc()),
    index('chat_sessions_idle_active_idx').on(t.lastActivityAt).where(sql`${t.status} = 'ACTIVE'`),
  ],
);
