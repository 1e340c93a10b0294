import { index, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns';
import { organizations } from './organizations';

/** Optional per-visitor limits of a publishable key; absent fields take the defaults in src/auth/publishable.ts. */
export type VisitorLimits = {
  /** Longest message a visitor may send, characters. */
  maxMessageChars?: number;
  /** Messages a visitor may send per UTC day. */
  dailyMessages?: number;
  /** Requests a visitor may make per minute. */
  requestsPerMinute?: number;
  /** Whether visitors may attach files (off by default); the rest applies only when on (src/auth/visitor-attachments.ts). */
  allowAttachments?: boolean;
  /** Files per visitor message. */
  maxAttachments?: number;
  /** Bytes per visitor file. */
  maxAttachmentBytes?: number;
  /** Declared MIME types a visitor may attach (base types, lower case). */
  attachmentTypes?: string[];
};

/**
 * Browser-safe keys for the embeddable widget (`pub_…`). A separate table from api_keys on purpose:
 * the secret-key lookup can never find one, so a publishable key cannot act as a secret key anywhere,
 * whatever route it is sent to. Only a SHA-256 hash is stored, like secret keys.
 */
export const publishableKeys = pgTable(
  'publishable_keys',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    hash: text('hash').notNull(),
    /** Browser origins (scheme://host[:port]) allowed to use the key; CORS opens exactly for these. */
    allowedOrigins: text('allowed_origins').array().notNull(),
    /** Personas a visitor may start a session with. */
    allowedPersonaIds: text('allowed_persona_ids').array().notNull(),
    visitorLimits: jsonb('visitor_limits').$type<VisitorLimits>().notNull().default({}),
    createdAt: createdAt(),
    revokedAt: timestamptz('revoked_at'),
  },
  (t) => [
    uniqueIndex('publishable_keys_hash_key').on(t.hash),
    index('publishable_keys_organization_idx').on(t.organizationId, t.createdAt),
  ],
);
