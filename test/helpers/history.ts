import type { HistoryAttachment, HistoryMessage } from '../../src/ai/prompt';

/** Pure prompt tests' history: attachments and messages with ids unique in the test file. */
let seq = 0;

export function attachment(filename: string, text: string, extra: Partial<HistoryAttachment> = {}): HistoryAttachment {
  seq++;
  return { id: `att_${seq}`, filename, text, hasText: text.trim() !== '', truncated: false, pageCount: null, ...extra };
}

export function message(
  role: HistoryMessage['role'],
  content: string,
  attachments: HistoryAttachment[] = [],
  status: HistoryMessage['status'] = 'COMPLETE',
): HistoryMessage {
  return { id: `msg_${++seq}`, role, content, status, attachments };
}
