import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';

/**
 * Idempotency-Key records in SQL: the claim and the "already held" test written into the
 * statement that does the work, and the read of the record that holds a key. What a request does
 * with them lives in src/services/idempotency.ts.
 */

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_HOURS = 24;

export type IdempotencyClaim = {
  key: string;
  procedure: string;
  requestHash: string;
  /** Unique to this attempt. */
  claimId: string;
  /** What this attempt will create, recorded so a retry can return it. */
  resourceId: string;
};

export type IdempotencyRecord = { procedure: string; requestHash: string; claimId: string; resourceId: string };

/**
 * A CTE body that claims the key for this attempt, for each row of `from` (a CTE name), unless an
 * unexpired record holds it. Concurrent claims of one key serialise on its primary key; the loser
 * gets no row back and must replay the winner's result.
 */
export function claimKey(organizationId: string, claim: IdempotencyClaim, from: SQL): SQL {
  return sql`
    insert into idempotency_keys (organization_id, key, procedure, request_hash, claim_id, resource_id, expires_at)
    select ${organizationId}, ${claim.key}, ${claim.procedure}, ${claim.requestHash}, ${claim.claimId},
           ${claim.resourceId}, now() + make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})
    from ${from}
    on conflict (organization_id, key) do update
      set procedure = excluded.procedure, request_hash = excluded.request_hash, claim_id = excluded.claim_id,
          resource_id = excluded.resource_id, created_at = now(), expires_at = excluded.expires_at
      where idempotency_keys.expires_at < now()
    returning claim_id`;
}

/** A CTE body with one row when an unexpired record holds `key` (none when `key` is null). */
export function keyHeld(organizationId: string, key: string | null): SQL {
  return sql`
    select 1 from idempotency_keys k
    where ${key}::text is not null and k.organization_id = ${organizationId} and k.key = ${key}
      and k.expires_at >= now()`;
}

/** A key's record as SQL returns it. */
export type RawIdempotencyRecord = { procedure: string; request_hash: string; claim_id: string; resource_id: string };

/**
 * The record holding a key, as a statement for a batch (raw rather than Drizzle's builder: the
 * batches it joins are read by position in sessions.ts).
 */
export function readKey(db: Db, organizationId: string, key: string) {
  return db.execute<RawIdempotencyRecord>(sql`
    select procedure, request_hash, claim_id, resource_id from idempotency_keys
    where organization_id = ${organizationId} and key = ${key} and expires_at >= now()`);
}

export function recordFromRaw(row: RawIdempotencyRecord | Record<string, unknown> | undefined) {
  if (!row) return undefined;
  const r = row as RawIdempotencyRecord;
  const record: IdempotencyRecord = {
    procedure: r.procedure,
    requestHash: r.request_hash,
    claimId: r.claim_id,
    resourceId: r.resource_id,
  };
  return record;
}

/** Deletes expired keys, a bounded number per call (the cron calls it). */
export async function deleteExpiredKeys(db: Db, limit: number) {
  const result = await db.execute(sql`
    delete from idempotency_keys where ctid in (
      select ctid from idempotency_keys where expires_at < now() limit ${limit})
    returning 1`);
  return result.rows.length;
}
