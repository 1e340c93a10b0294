import { index, jsonb, pgEnum, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz, updatedAt } from './columns';
import { organizations } from './organizations';
import { searchVectorExpression, tsvector } from './search';
import { chatSessions } from './sessions';

export const messageRoles = ['USER', 'ASSISTANT', 'SYSTEM'] as const;
/**
 * COMPLETE: a finished message. STREAMING: a reply being generated. INCOMPLETE: generation failed or
 * was cut; the text is what arrived. STOPPED: the caller stopped it; the text is what arrived.
 */
export const messageStatuses = ['COMPLETE', 'STREAMING', 'INCOMPLETE', 'STOPPED'] as const;

export const messageRoleEnum = pgEnum('message_role', messageRoles);
export const messageStatusEnum = pgEnum('message_status', messageStatuses);

export const messages = pgTable(
  'messages',
  {
    id: text('id').primaryKey(),
    /** Denormalised so every read can filter by organization without a join. */
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    chatSessionId: text('chat_session_id')
      .notNull()
      .references(() => chatSessions.id, { onDelete: 'cascade' }),
    role: messageRoleEnum('role').notNull(),
    content: text('content').notNull(),
    status: messageStatusEnum('status').notNull().default('COMPLETE'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** For an assistant reply: the user message it answers. */
    replyToId: text('reply_to_id'),
    /**
     * For a reply: set when a newer version (chat.regenerate) or the caller's choice
     * (chat.selectReplyVersion) put another reply to the same message in use. Such a version is
     * kept (export, listReplyVersions) but left out of the history, getSession, listMessages,
     * search and the session's message count.
     */
    supersededAt: timestamptz('superseded_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** Full-text search (src/db/schema/search.ts); never selected by the API. */
    searchVector: tsvector('search_vector').generatedAlwaysAs(searchVectorExpression),
  },
  (t) => [
    index('messages_session_order_idx').on(t.chatSessionId, t.createdAt, t.id),
    // Full-text search (src/db/schema/search.ts explains the expression).
    index('messages_search_idx').using('gin', t.searchVector),
  ],
);
