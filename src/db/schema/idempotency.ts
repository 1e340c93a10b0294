import { index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns';
import { organizations } from './organizations';

/**
 * Idempotency-Key records: a retried request with the same key gets the original result instead of
 * a second row or a second model call. Keys are per organization and expire (24 h).
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    /** The procedure it was used with. */
    procedure: text('procedure').notNull(),
    /** SHA-256 of the request's input: the same key with another payload is refused. */
    requestHash: text('request_hash').notNull(),
    /** Unique per attempt: tells the request that claimed the key from later ones. */
    claimId: text('claim_id').notNull(),
    /** What the original request made (session id, or the reply's message id). */
    resourceId: text('resource_id').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamptz('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.key] }), index('idempotency_keys_expiry_idx').on(t.expiresAt)],
);
