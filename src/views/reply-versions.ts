import type { ReplyVersionRow } from '../db/queries/reply-versions';
import { iso } from './dates';

/** The versions of a message's reply (chat.listReplyVersions, chat.selectReplyVersion), oldest first. */
export function replyVersionsView(messageId: string, rows: ReplyVersionRow[]) {
  const versions = rows.flatMap((r) =>
    r.id === null || r.status === null || r.created_at === null
      ? []
      : [
          {
            id: r.id,
            status: r.status,
            content: r.content ?? '',
            createdAt: iso(r.created_at),
            inUse: r.in_use === true,
          },
        ],
  );
  return { messageId, versions };
}

export type ReplyVersionsView = ReturnType<typeof replyVersionsView>;
