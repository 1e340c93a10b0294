import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { chunkRows } from './attachment-chunks';
import type { AttachmentChunk } from './message-rows';

/**
 * An attachment waiting to be indexed whole by the ingestion queue (index_status PENDING), with the
 * session its chunks belong to; undefined when it is gone or already done.
 */
export async function pendingAttachment(db: Db, organizationId: string, attachmentId: string) {
  const result = await db.execute<{ id: string; filename: string; mimeType: string; chatSessionId: string }>(sql`
    select a.id, a.filename, a.declared_type as "mimeType", m.chat_session_id as "chatSessionId"
    from attachments a
    join messages m on m.id = a.message_id and m.organization_id = ${organizationId}
    where a.id = ${attachmentId} and a.organization_id = ${organizationId} and a.index_status = 'PENDING'`);
  return result.rows[0];
}

/**
 * The whole attachment's chunks in place of those the request made, and READY, in ONE statement:
 * a reader sees the old chunks or the new ones, never neither. Only a PENDING attachment is
 * completed, so a repeated delivery writes nothing. The new chunks take new ids ("_w" for whole),
 * so the insert never meets a row the delete is removing in the same statement.
 */
export async function completeAttachmentIndex(
  db: Db,
  organizationId: string,
  attachmentId: string,
  chunks: AttachmentChunk[],
): Promise<boolean> {
  const result = await db.execute<{ updated: number }>(sql`
    with done as (
      update attachments a set index_status = 'READY'
      from messages m
      where a.id = ${attachmentId} and a.organization_id = ${organizationId} and a.index_status = 'PENDING'
        and m.id = a.message_id and m.organization_id = ${organizationId}
      returning a.id, a.organization_id, m.chat_session_id
    ), old as (
      delete from knowledge_chunks c using done
      where c.attachment_id = done.id and c.organization_id = ${organizationId}
      returning 1
    ), ins as (
      insert into knowledge_chunks (id, organization_id, attachment_id, chat_session_id, ordinal, page_start,
        page_end, heading, text)
      select done.id || '_w' || r.ordinal, done.organization_id, done.id, done.chat_session_id, r.ordinal,
        r.page_start, r.page_end, r.heading, r.text
      from done, jsonb_to_recordset(${JSON.stringify(chunkRows(chunks))}::jsonb)
        as r(ordinal integer, page_start integer, page_end integer, heading text, text text)
      returning 1
    )
    select (select count(*) from done)::integer as updated, (select count(*) from old)::integer as removed`);
  return result.rows[0]?.updated === 1;
}

/** The attachment could not be indexed whole: FAILED, keeping the chunks the request made. */
export async function failAttachmentIndex(db: Db, organizationId: string, attachmentId: string): Promise<boolean> {
  const result = await db.execute<{ id: string }>(sql`
    update attachments set index_status = 'FAILED'
    where id = ${attachmentId} and organization_id = ${organizationId} and index_status = 'PENDING'
    returning id`);
  return result.rows.length > 0;
}
