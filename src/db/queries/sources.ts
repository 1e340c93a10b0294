import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { SourceLimits } from '../../config';
import { newId } from '../../ids';
import type { Db } from '../client';
import { knowledgeChunks, knowledgeSources, personas } from '../schema';
import { outboxCte, sourcePayload } from './webhook-outbox';

/** Every column but none that is large: sources are listed often, chunks are read only on request. */
export const sourceColumns = {
  id: knowledgeSources.id,
  organizationId: knowledgeSources.organizationId,
  personaId: knowledgeSources.personaId,
  filename: knowledgeSources.filename,
  mimeType: knowledgeSources.mimeType,
  byteSize: knowledgeSources.byteSize,
  sha256: knowledgeSources.sha256,
  blobKey: knowledgeSources.blobKey,
  status: knowledgeSources.status,
  failureCode: knowledgeSources.failureCode,
  failureReason: knowledgeSources.failureReason,
  pageCount: knowledgeSources.pageCount,
  pagesIndexed: knowledgeSources.pagesIndexed,
  charCount: knowledgeSources.charCount,
  chunkCount: knowledgeSources.chunkCount,
  attempts: knowledgeSources.attempts,
  createdAt: knowledgeSources.createdAt,
  updatedAt: knowledgeSources.updatedAt,
  readyAt: knowledgeSources.readyAt,
};

/** A passage of a source (or a large attachment) as it is indexed. Pages are 1-based; null for documents without pages. */
export type Chunk = {
  ordinal: number;
  pageStart: number | null;
  pageEnd: number | null;
  heading: string | null;
  text: string;
};

export type SourceRow = NonNullable<Awaited<ReturnType<typeof getSource>>>;

export type NewSource = {
  id: string;
  personaId: string;
  filename: string;
  mimeType: string;
  byteSize: number;
  sha256: string;
  blobKey: string;
};

export type InsertRefusal = 'PERSONA_NOT_FOUND' | 'TOO_MANY_SOURCES' | 'TOTAL_BYTES';

/**
 * Inserts a PENDING source when its persona exists (not deleted) and the organization's limits
 * allow it, in one statement. Otherwise nothing is written and the refusal says why. Two adds racing
 * for the last place may both pass (the counts are read in each statement's snapshot): the limits
 * can be overshot by the number of concurrent adds, never more.
 */
export async function insertSourceWithinLimits(
  db: Db,
  organizationId: string,
  source: NewSource,
  limits: SourceLimits,
): Promise<{ row: SourceRow } | { refusal: InsertRefusal; count: number; totalBytes: number }> {
  const inserted = await db
    .insert(knowledgeSources)
    .select(
      db
        .select({
          id: sql<string>`${source.id}`.as('id'),
          organizationId: personas.organizationId,
          personaId: personas.id,
          filename: sql<string>`${source.filename}`.as('filename'),
          mimeType: sql<string>`${source.mimeType}`.as('mime_type'),
          byteSize: sql<number>`${source.byteSize}::integer`.as('byte_size'),
          sha256: sql<string>`${source.sha256}`.as('sha256'),
          blobKey: sql<string>`${source.blobKey}`.as('blob_key'),
          status: sql<string>`'PENDING'`.as('status'),
          failureCode: sql<null>`null`.as('failure_code'),
          failureReason: sql<null>`null`.as('failure_reason'),
          pageCount: sql<null>`null::integer`.as('page_count'),
          pagesIndexed: sql<null>`null::integer`.as('pages_indexed'),
          charCount: sql<null>`null::integer`.as('char_count'),
          chunkCount: sql<number>`0`.as('chunk_count'),
          attempts: sql<number>`0`.as('attempts'),
          createdAt: sql<Date>`now()`.as('created_at'),
          updatedAt: sql<Date>`now()`.as('updated_at'),
          readyAt: sql<null>`null::timestamptz`.as('ready_at'),
          embeddingModel: sql<null>`null::text`.as('embedding_model'),
        })
        .from(personas)
        .where(
          and(
            eq(personas.organizationId, organizationId),
            eq(personas.id, source.personaId),
            sql`${personas.deletedAt} is null`,
            sql`(select count(*) from knowledge_sources k where k.organization_id = ${organizationId}
                   and k.persona_id = ${source.personaId}) < ${limits.maxPerPersona}`,
            sql`(select coalesce(sum(k.byte_size), 0) from knowledge_sources k
                   where k.organization_id = ${organizationId}) + ${source.byteSize} <= ${limits.maxTotalBytes}`,
          ),
        ),
    )
    .returning(sourceColumns);
  const row = inserted[0];
  if (row) return { row };
  const result = await db.execute<{ persona: boolean; count: number; totalBytes: number }>(sql`
    select exists (select 1 from personas p where p.id = ${source.personaId}
             and p.organization_id = ${organizationId} and p.deleted_at is null) as persona,
           (select count(*) from knowledge_sources k where k.organization_id = ${organizationId}
             and k.persona_id = ${source.personaId})::integer as count,
           (select coalesce(sum(k.byte_size), 0) from knowledge_sources k
             where k.organization_id = ${organizationId})::float8 as "totalBytes"`);
  const { persona = false, count = 0, totalBytes = 0 } = result.rows[0] ?? {};
  if (!persona) return { refusal: 'PERSONA_NOT_FOUND', count, totalBytes };
  if (count >= limits.maxPerPersona) return { refusal: 'TOO_MANY_SOURCES', count, totalBytes };
  return { refusal: 'TOTAL_BYTES', count, totalBytes };
}

export async function getSource(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .select(sourceColumns)
    .from(knowledgeSources)
    .where(and(eq(knowledgeSources.organizationId, organizationId), eq(knowledgeSources.id, id)))
    .limit(1);
  return row;
}

/** A persona's sources, newest first, keyset-paginated by the last id of the previous page. */
export function listSources(
  db: Db,
  organizationId: string,
  input: { personaId: string; limit: number; cursor?: string | undefined },
) {
  const after = input.cursor
    ? sql`(${knowledgeSources.createdAt}, ${knowledgeSources.id}) < (select k2.created_at, k2.id from knowledge_sources k2
           where k2.id = ${input.cursor} and k2.organization_id = ${organizationId})`
    : undefined;
  return db
    .select(sourceColumns)
    .from(knowledgeSources)
    .where(
      and(eq(knowledgeSources.organizationId, organizationId), eq(knowledgeSources.personaId, input.personaId), after),
    )
    .orderBy(desc(knowledgeSources.createdAt), desc(knowledgeSources.id))
    .limit(input.limit);
}

/** The first chunks of a source, in document order, from ordinal `from`. */
export function listChunks(db: Db, organizationId: string, sourceId: string, input: { from: number; limit: number }) {
  return db
    .select({
      ordinal: knowledgeChunks.ordinal,
      pageStart: knowledgeChunks.pageStart,
      pageEnd: knowledgeChunks.pageEnd,
      heading: knowledgeChunks.heading,
      text: knowledgeChunks.text,
    })
    .from(knowledgeChunks)
    .where(
      and(
        eq(knowledgeChunks.organizationId, organizationId),
        eq(knowledgeChunks.sourceId, sourceId),
        sql`${knowledgeChunks.ordinal} >= ${input.from}`,
      ),
    )
    .orderBy(asc(knowledgeChunks.ordinal))
    .limit(input.limit);
}

/** Deletes a source; its chunks go with it (foreign key, on delete cascade) in the same statement. */
export async function deleteSource(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .delete(knowledgeSources)
    .where(and(eq(knowledgeSources.organizationId, organizationId), eq(knowledgeSources.id, id)))
    .returning({ id: knowledgeSources.id, blobKey: knowledgeSources.blobKey });
  return row;
}

/** Counts a delivery of a PENDING source's ingestion job; undefined when it is gone or done. */
export async function claimSourceAttempt(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .update(knowledgeSources)
    .set({ attempts: sql`${knowledgeSources.attempts} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(knowledgeSources.organizationId, organizationId),
        eq(knowledgeSources.id, id),
        eq(knowledgeSources.status, 'PENDING'),
      ),
    )
    .returning(sourceColumns);
  return row;
}

/** Marks a PENDING source FAILED (with its source.failed event); a source already READY (or deleted) is left alone. */
export async function failSource(db: Db, organizationId: string, id: string, code: string, reason: string) {
  const result = await db.execute<{ id: string }>(sql`
    with src as (
      update knowledge_sources set status = 'FAILED', failure_code = ${code}, failure_reason = ${reason.slice(0, 1_000)},
        updated_at = now()
      where id = ${id} and organization_id = ${organizationId} and status = 'PENDING'
      returning id, persona_id, filename, failure_code, failure_reason
    ), ${outboxCte('event', {
      id: newId('webhookEvent'),
      organizationId,
      type: 'source.failed',
      from: sql`src`,
      payload: sourcePayload('FAILED', sql`'failureCode', src.failure_code, 'failureReason', src.failure_reason`),
    })}
    select id from src`);
  return result.rows.length > 0;
}

/**
 * Writes a source's chunks and marks it READY in ONE statement: either all of it is indexed and
 * READY, or nothing is. Only a PENDING source is completed, so a repeated delivery writes nothing.
 * Chunks travel as one JSON parameter (bounded by SOURCE_MAX_CHARS, well under Neon's 10 MiB).
 */
export async function completeSource(
  db: Db,
  organizationId: string,
  id: string,
  result: { chunks: Chunk[]; pageCount: number | null; pagesIndexed: number | null; charCount: number },
): Promise<boolean> {
  const rows = result.chunks.map((c) => ({
    ordinal: c.ordinal,
    page_start: c.pageStart,
    page_end: c.pageEnd,
    heading: c.heading,
    text: c.text,
  }));
  const outcome = await db.execute<{ updated: number }>(sql`
    with src as (
      update knowledge_sources set status = 'READY', failure_code = null, failure_reason = null,
        page_count = ${result.pageCount}::integer, pages_indexed = ${result.pagesIndexed}::integer,
        char_count = ${result.charCount}::integer, chunk_count = ${rows.length}::integer,
        ready_at = now(), updated_at = now()
      where id = ${id} and organization_id = ${organizationId} and status = 'PENDING'
      returning id, organization_id, persona_id, filename, page_count, pages_indexed, chunk_count
    ), ins as (
      insert into knowledge_chunks (id, organization_id, persona_id, source_id, ordinal, page_start, page_end, heading, text)
      select src.id || '_' || r.ordinal, src.organization_id, src.persona_id, src.id, r.ordinal, r.page_start,
        r.page_end, r.heading, r.text
      from src, jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as r(ordinal integer, page_start integer, page_end integer, heading text, text text)
      returning 1
    ), ${outboxCte('event', {
      id: newId('webhookEvent'),
      organizationId,
      type: 'source.ready',
      from: sql`src`,
      payload: sourcePayload(
        'READY',
        sql`'pageCount', src.page_count, 'pagesIndexed', src.pages_indexed, 'chunkCount', src.chunk_count`,
      ),
    })}
    select (select count(*) from src)::integer as updated, (select count(*) from ins)::integer as inserted`);
  return outcome.rows[0]?.updated === 1;
}
