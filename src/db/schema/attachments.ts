import { boolean, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt } from './columns';
import { messages } from './messages';
import { organizations } from './organizations';

export const attachments = pgTable(
  'attachments',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    messageId: text('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    filename: text('filename').notNull(),
    declaredType: text('declared_type').notNull(),
    detectedType: text('detected_type').notNull(),
    byteSize: integer('byte_size').notNull(),
    sha256: text('sha256').notNull(),
    pageCount: integer('page_count'),
    charCount: integer('char_count').notNull(),
    /** Extracted text, capped at the per-attachment limit. */
    text: text('text').notNull(),
    truncated: boolean('truncated').notNull().default(false),
    /** False for a scan or an empty file: the model is told there was no text. */
    hasText: boolean('has_text').notNull(),
    /**
     * Null when the request read the whole file. PENDING when it could not (a PDF past the request's
     * reading budget): its bytes wait in R2 and the ingestion queue indexes all of it like a knowledge
     * source, then READY (or FAILED, keeping the chunks the request made).
     */
    indexStatus: text('index_status'),
    createdAt: createdAt(),
  },
  (t) => [index('attachments_message_idx').on(t.messageId)],
);
