import { sql } from 'drizzle-orm';
import { wellFormed } from '../../text';
import type { Db } from '../client';
import type { AttachmentChunk } from './message-rows';

/** Chunks as the JSON rows the statements below read with jsonb_to_recordset. */
export function chunkRows(chunks: AttachmentChunk[]) {
  return chunks.map((c) => ({
    ordinal: c.ordinal,
    page_start: c.pageStart,
    page_end: c.pageEnd,
    heading: c.heading === null ? null : wellFormed(c.heading),
    text: wellFormed(c.text),
  }));
}

/**
 * Stores the chunks of a message's large attachments (issue 17) in knowledge_chunks, tagged with
 * the attachment and the message's session (never a persona: they belong to that session only).
 * Part of the turn's first round trip: written only when the message was (same organization), and
 * gone with the attachment or the session (foreign keys, on delete cascade). All chunks travel as
 * one JSON parameter, bounded by ATTACHMENT_MAX_INDEXED_CHARS per attachment.
 */
export function insertAttachmentChunks(
  db: Db,
  organizationId: string,
  messageId: string,
  attachments: { id: string; chunks?: AttachmentChunk[] | undefined }[],
) {
  const rows = attachments.flatMap((a) => chunkRows(a.chunks ?? []).map((r) => ({ attachment_id: a.id, ...r })));
  return db.execute(sql`
    insert into knowledge_chunks (id, organization_id, attachment_id, chat_session_id, ordinal, page_start,
      page_end, heading, text)
    select r.attachment_id || '_' || r.ordinal, m.organization_id, r.attachment_id, m.chat_session_id, r.ordinal,
      r.page_start, r.page_end, r.heading, r.text
    from messages m, jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as r(attachment_id text, ordinal integer, page_start integer, page_end integer, heading text, text text)
    where m.id = ${messageId} and m.organization_id = ${organizationId}
      and exists (select 1 from attachments a where a.id = r.attachment_id and a.organization_id = ${organizationId})`);
}
