import type { MessageRow } from '../db/queries/messages';
import type { AttachmentMeta } from '../db/queries/projections';
import { iso } from './dates';

/** The contract's attachment metadata: the stored declared type is the `mimeType` the client sent. */
export function attachmentView(a: AttachmentMeta) {
  return {
    id: a.id,
    filename: a.filename,
    mimeType: a.declaredType,
    detectedType: a.detectedType,
    byteSize: a.byteSize,
    sha256: a.sha256,
    pageCount: a.pageCount,
    charCount: a.charCount,
    truncated: a.truncated,
    hasText: a.hasText,
    // Null when the request read the whole file; else the queue's reading of it (attachment-index.ts).
    indexStatus: (a.indexStatus ?? null) as 'PENDING' | 'READY' | 'FAILED' | null,
    createdAt: iso(a.createdAt),
    ...(a.text === undefined ? {} : { text: a.text }),
  };
}

export type AttachmentView = ReturnType<typeof attachmentView>;

/** The contract's Message, plus `status`, `replyToId` and attachment metadata. */
export function messageView(m: MessageRow) {
  return {
    id: m.id,
    chatSessionId: m.chatSessionId,
    role: m.role,
    content: m.content,
    status: m.status,
    metadata: m.metadata,
    replyToId: m.replyToId,
    attachments: (m.attachments ?? []).map(attachmentView),
    createdAt: iso(m.createdAt),
    updatedAt: iso(m.updatedAt),
  };
}

export type MessageView = ReturnType<typeof messageView>;
