import { z } from 'zod';
import { exportSessionPage, type ImportedMessage, importSession } from '../../db/queries/export';
import { feedbackRatings, messageRoles, platforms } from '../../db/schema';
import { AppError } from '../../errors';
import { newId } from '../../ids';
import { cursor, id, limit, metadata, text } from '../../inputs/common';
import { exportJsonView, exportMarkdownView } from '../../views/export';
import { sessionView } from '../../views/session';
import { authedProcedure, router } from '../init';

/** Import bounds: the history goes to Postgres as one statement, which Neon caps at 10 MiB. */
export const IMPORT_MAX_MESSAGES = 5_000;
export const IMPORT_MAX_BYTES = 8 * 1024 * 1024;

const instant = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' });
const optionalText = (max: number) => text(max).pipe(z.string().trim()).nullish();

const exportInput = z.object({
  chatSessionId: id,
  limit: limit(500, 200),
  cursor,
  includeAttachmentText: z.boolean().default(false),
});

const importedMessage = z.object({
  /** The message's id in the tool it comes from: kept as metadata.importedFrom.id, and replyToId may name it. */
  id: text(200).optional(),
  role: z.enum(messageRoles),
  content: text(100_000),
  /** A reply that was still being generated when exported is imported as INCOMPLETE. */
  status: z
    .enum(['COMPLETE', 'INCOMPLETE', 'STOPPED', 'STREAMING'])
    .default('COMPLETE')
    .transform((s) => (s === 'STREAMING' ? 'INCOMPLETE' : s)),
  metadata: metadata.default({}),
  replyToId: text(200).nullish(),
  /** A reply version not in use (an export marks them); kept as such when it answers a message. */
  supersededAt: instant.nullish(),
  createdAt: instant.refine((v) => Number(v.slice(0, 4)) >= 1970, 'must be in 1970 or later').optional(),
  feedback: z
    .object({
      rating: z.enum(feedbackRatings),
      reason: optionalText(50),
      comment: optionalText(2_000),
      userId: optionalText(200),
    })
    .nullish(),
});

/** An export document (chat export.session) is valid input as it is; unknown fields are ignored. */
const importInput = z.object({
  personaId: id,
  title: text(200).pipe(z.string().trim()).nullish(),
  platform: z.enum(platforms).optional(),
  userId: text(200).pipe(z.string().trim().min(1, 'must not be empty')).nullish(),
  session: z
    .object({
      title: text(200).pipe(z.string().trim()).nullish(),
      platform: z.enum(platforms).optional(),
      userId: text(200).pipe(z.string().trim().min(1, 'must not be empty')).nullish(),
    })
    .optional(),
  messages: z
    .array(importedMessage)
    .min(1, 'must hold at least one message')
    .max(IMPORT_MAX_MESSAGES, `has too many messages (max ${IMPORT_MAX_MESSAGES}; split the history)`),
});

type ImportInput = z.infer<typeof importInput>;

/** New ids in order, original createdAt kept (non-decreasing), replyToId mapped onto the new ids. */
function planMessages(input: ImportInput): ImportedMessage[] {
  const now = new Date().toISOString();
  const newIds = input.messages.map(() => newId('message'));
  const byOriginal = new Map<string, string>();
  input.messages.forEach((m, i) => {
    if (m.id === undefined) return;
    if (byOriginal.has(m.id)) throw new AppError('BAD_REQUEST', `messages.${i}.id repeats an earlier message's id.`);
    byOriginal.set(m.id, newIds[i] as string);
  });
  let previous = '';
  return input.messages.map((m, i) => {
    const createdAt = m.createdAt ? new Date(m.createdAt).toISOString() : now;
    if (createdAt < previous) {
      throw new AppError(
        'BAD_REQUEST',
        `messages.${i}.createdAt is before the previous message's: messages must be in time order (a message without createdAt takes the import time).`,
      );
    }
    previous = createdAt;
    const replyToId = (m.replyToId && byOriginal.get(m.replyToId)) || null;
    if (m.feedback && m.role !== 'ASSISTANT') {
      throw new AppError('BAD_REQUEST', `messages.${i}.feedback: only assistant replies can be rated.`);
    }
    return {
      id: newIds[i] as string,
      role: m.role,
      content: m.content,
      status: m.status,
      metadata: m.id === undefined ? m.metadata : { ...m.metadata, importedFrom: { id: m.id } },
      replyToId,
      createdAt,
      // Only a reply can be a version not in use.
      supersededAt:
        m.supersededAt && m.role === 'ASSISTANT' && replyToId ? new Date(m.supersededAt).toISOString() : null,
      feedback: m.feedback
        ? {
            rating: m.feedback.rating,
            reason: m.feedback.reason || null,
            comment: m.feedback.comment || null,
            userId: m.feedback.userId || null,
          }
        : null,
    };
  });
}

const notFound = (sessionId: string) => new AppError('NOT_FOUND', `Chat session ${sessionId} not found.`);

export const exportRouter = router({
  /** A session as lossless JSON, a page of messages at a time (`page.nextCursor` until complete). */
  session: authedProcedure.input(exportInput).query(async ({ ctx, input }) => {
    const page = await exportSessionPage(ctx.db, ctx.auth.organizationId, input);
    if (!page) throw notFound(input.chatSessionId);
    return exportJsonView(page, input.cursor ?? null);
  }),

  /** A session as a Markdown transcript, paged like export.session. */
  markdown: authedProcedure.input(exportInput).query(async ({ ctx, input }) => {
    const page = await exportSessionPage(ctx.db, ctx.auth.organizationId, input);
    if (!page) throw notFound(input.chatSessionId);
    return exportMarkdownView(page, input.cursor ?? null);
  }),

  /** Creates a new session from an export (ours, or any tool's mapped to it): all of it or nothing. */
  importSession: authedProcedure.input(importInput).mutation(async ({ ctx, input }) => {
    const messages = planMessages(input);
    const bytes = new TextEncoder().encode(JSON.stringify(messages)).byteLength;
    if (bytes > IMPORT_MAX_BYTES) {
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `The history is ${bytes} bytes as JSON; one import takes at most ${IMPORT_MAX_BYTES}. Split it into several sessions.`,
      );
    }
    const title = input.title !== undefined ? input.title : input.session?.title;
    const userId = input.userId !== undefined ? input.userId : input.session?.userId;
    const row = await importSession(ctx.db, ctx.auth.organizationId, {
      id: newId('session'),
      personaId: input.personaId,
      title: title || null,
      platform: input.platform ?? input.session?.platform ?? 'API',
      userId: userId ?? null,
      messages,
    });
    if (!row) throw new AppError('NOT_FOUND', `Persona ${input.personaId} not found.`);
    return { ...sessionView(row), messageIds: messages.map((m) => m.id) };
  }),
});
