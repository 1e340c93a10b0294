import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';

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

/** The record holding a key, as a raw statement for a batch. */
export function readKey(db: Db, organizationId: string, key: string) {
  return db.execute(sql`
    select procedure, request_hash, claim_id, resource_id from idempotency_keys
    where organization_id = ${organizationId} and key = ${key} and expires_at >= now()`);
}

export function recordFromRaw(row: Record<string, unknown> | undefined): IdempotencyRecord | undefined {
  if (!row) return undefined;
  return {
    procedure: row.procedure as string,
    requestHash: row.request_hash as string,
    claimId: row.claim_id as string,
    resourceId: row.resource_id as string,
  };
}

/** Deletes expired keys, a bounded number per call (the cron calls it). */
export async function deleteExpiredKeys(db: Db, limit: number) {
  const result = await db.execute(sql`
    delete from idempotency_keys where ctid in (
      select ctid from idempotency_keys where expires_at < now() limit ${limit})
    returning 1`);
  return result.rows.length;
}
