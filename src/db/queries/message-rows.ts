import { sql } from 'drizzle-orm';
import type { AttachmentMeta } from './projections';

/**
 * The shapes of a message as the queries read and write them: shared by messages.ts (reads, deletes,
 * closing replies) and turns.ts (the turn's statements), and by the prompt builder above them, so
 * neither query module imports the other and db/ imports nothing from ai/.
 */

export type MessageRole = 'USER' | 'ASSISTANT' | 'SYSTEM';
export type MessageStatus = 'COMPLETE' | 'STREAMING' | 'INCOMPLETE' | 'STOPPED';

export type MessageRow = {
  id: string;
  chatSessionId: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  metadata: Record<string, unknown>;
  replyToId: string | null;
  createdAt: Date | string;
  updatedAt: Date | string;
  attachments?: AttachmentMeta[];
};

/** A message row as raw SQL returns it (`returning` below), before messageFromRaw. */
export type RawMessageRow = {
  id: string;
  chat_session_id: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  metadata: Record<string, unknown> | null;
  reply_to_id: string | null;
  created_at: Date | string;
  updated_at: Date | string;
};

/** A message from its raw row. */
export function messageFromRow(r: RawMessageRow): MessageRow {
  return {
    id: r.id,
    chatSessionId: r.chat_session_id,
    role: r.role,
    content: r.content,
    status: r.status,
    metadata: r.metadata ?? {},
    replyToId: r.reply_to_id ?? null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** A message from an untyped row or a JSON object of one (export and getSession build them with its attachments). */
export function messageFromRaw(r: Record<string, unknown>): MessageRow {
  const message = messageFromRow(r as RawMessageRow);
  return Array.isArray(r.attachments) ? { ...message, attachments: r.attachments as AttachmentMeta[] } : message;
}

/** The columns of RawMessageRow, for `returning` and `select` clauses of raw statements. */
export const returning = sql.raw(
  'id, chat_session_id, role, content, status, metadata, reply_to_id, created_at, updated_at',
);

/** A passage of a large attachment, stored for retrieval (the shape src/sources/chunk.ts makes). */
export type AttachmentChunk = {
  ordinal: number;
  pageStart: number | null;
  pageEnd: number | null;
  heading: string | null;
  text: string;
};

/** An attachment of a message being sent, extracted and ready to store with it. */
export type NewAttachment = {
  id: string;
  filename: string;
  declaredType: string;
  detectedType: string;
  byteSize: number;
  sha256: string;
  pageCount: number | null;
  charCount: number;
  text: string;
  truncated: boolean;
  hasText: boolean;
  /** Chunks of a large attachment, stored for retrieval (issue 17); absent for small ones. */
  chunks?: AttachmentChunk[];
  /** The request left pages unread: the bytes wait in R2 and the queue indexes the whole file. */
  indexLater?: boolean;
};

/** An attachment of the history a turn reads, as far as the prompt can use it. */
export type HistoryAttachment = {
  id: string;
  filename: string;
  text: string;
  hasText: boolean;
  truncated: boolean;
  pageCount: number | null;
  /** Length of the stored text when `text` was read only in part (it can never all fit anyway). */
  storedChars?: number;
};

/** A message of the history a turn reads (oldest first, ending with the turn's own message). */
export type HistoryMessage = {
  id: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  attachments: HistoryAttachment[];
};
