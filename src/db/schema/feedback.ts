import { index, pgEnum, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns';
import { messages } from './messages';
import { organizations } from './organizations';
import { personas } from './personas';
import { chatSessions } from './sessions';

export const feedbackRatings = ['UP', 'DOWN'] as const;
export const feedbackRatingEnum = pgEnum('feedback_rating', feedbackRatings);

/**
 * A rating of one assistant reply. One per reply (the primary key): rating again replaces it, the
 * latest wins, and `userId` says which end user gave the one that stands.
 */
export const messageFeedback = pgTable(
  'message_feedback',
  {
    messageId: text('message_id')
      .primaryKey()
      .references(() => messages.id, { onDelete: 'cascade' }),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    chatSessionId: text('chat_session_id')
      .notNull()
      .references(() => chatSessions.id, { onDelete: 'cascade' }),
    /** The session's persona, copied so "rated replies of a persona" is one index range. */
    personaId: text('persona_id')
      .notNull()
      .references(() => personas.id, { onDelete: 'cascade' }),
    rating: feedbackRatingEnum('rating').notNull(),
    /** A short label the organization chooses (`inaccurate`, `tone`, …), for filtering. */
    reason: text('reason'),
    comment: text('comment'),
    /** The end user who rated (opaque, like chat_sessions.user_id). */
    userId: text('user_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('message_feedback_persona_idx').on(t.organizationId, t.personaId, t.updatedAt.desc(), t.messageId.desc()),
    index('message_feedback_session_idx').on(t.chatSessionId, t.messageId),
  ],
);
