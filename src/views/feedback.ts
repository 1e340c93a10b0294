import type { FeedbackRow, RatedReply } from '../db/queries/feedback';
import { iso } from './dates';

export function feedbackView(f: FeedbackRow) {
  return {
    messageId: f.messageId,
    chatSessionId: f.chatSessionId,
    personaId: f.personaId,
    rating: f.rating,
    reason: f.reason,
    comment: f.comment,
    userId: f.userId,
    createdAt: iso(f.createdAt),
    updatedAt: iso(f.updatedAt),
  };
}

export type FeedbackView = ReturnType<typeof feedbackView>;

/** A rating with the reply it rates and the question that reply answered. */
export function ratedReplyView(r: RatedReply) {
  return {
    ...feedbackView(r),
    reply: { ...r.reply, createdAt: iso(r.reply.createdAt) },
    question: r.question,
  };
}
