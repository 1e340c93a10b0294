import type { MessageRow } from '../db/queries/messages';
import { iso } from './dates';

export type AttachmentView = {
  id: string;
  filename: string;
  mimeType: string;
  detectedType: string;
  byteSize: number;
  sha256: string;
  pageCount: number | null;
  charCount: number;
  truncated: boolean;
  hasText: boolean;
  createdAt: string;
  text?: string;
};

function attachmentView(a: Record<string, unknown>): AttachmentView {
  return {
    id: a.id as string,
    filename: a.filename as string,
    mimeType: a.declared_type as string,
    detectedType: a.detected_type as string,
    byteSize: Number(a.byte_size),
    sha256: a.sha256 as string,
    pageCount: a.page_count === null ? null : Number(a.page_count),
    charCount: Number(a.char_count),
    truncated: a.truncated === true,
    hasText: a.has_text === true,
    createdAt: iso(a.created_at as string),
    ...(typeof a.text === 'string' ? { text: a.text } : {}),
  };
}

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
