import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * Full-text search over messages: one expression GIN index (no stored column, so adding it rewrites
 * no table and stores nothing per row but the index). The query must repeat the very same
 * expression for Postgres to use the index, so both come from here.
 *
 * - `simple` configuration: lowercases and splits, no stemming and no stop words, so it treats every
 *   language the same way (personas speak many). Changing it needs a new migration.
 * - Only the first SEARCH_INDEXED_CHARS characters of a message are indexed: index work per message
 *   is bounded whatever its length.
 * - The organization id is added as one extra lexeme. Content lexemes are always lowercase (the
 *   `simple` dictionary lowercases) and the id is `org_` plus an uppercase ULID, so no text can
 *   forge it. A query ANDs it in, so the GIN scan stays inside the organization's posting list:
 *   a common word in other organizations costs this one nothing (a tenant partition inside the
 *   index, without the btree_gin extension).
 * - Partial: replies being generated (STREAMING) are left out, so their periodic progress saves
 *   never touch the GIN index; a reply enters it once, when it is finished.
 */
export const SEARCH_CONFIG = 'simple';
export const SEARCH_INDEXED_CHARS = 20_000;

export function searchDocument(content: AnyPgColumn | SQL): SQL {
  return sql`to_tsvector('simple'::regconfig, left(${content}, 20000))`;
}

export function searchVector(content: AnyPgColumn | SQL, organizationId: AnyPgColumn | SQL): SQL {
  return sql`(${searchDocument(content)} || array_to_tsvector(array[${organizationId}]))`;
}
