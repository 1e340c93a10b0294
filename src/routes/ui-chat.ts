import { createUIMessageStream, createUIMessageStreamResponse, type UIMessageChunk } from 'ai';
import { Hono } from 'hono';
import { z } from 'zod';
import { assertModelConfigured } from '../ai/model';
import { authenticateRequest } from '../auth/authenticate';
import type { Context } from '../context';
import { AppError, INTERNAL_MESSAGE, logFailure, toAppError } from '../errors';
import type { HonoEnv } from '../hono-env';
import { requestContext } from '../request-context';
import { prepareAttachments } from '../services/send-message';
import { sendMessageInput } from '../services/send-message-input';
import { followCurrentReply, startTurnStream, stopCurrentReply, type TurnEvent } from '../services/session-object';
import { describeIssues } from '../validation';

/**
 * The AI SDK UI-message-stream protocol, so `useChat` with `DefaultChatTransport` works against a
 * session unchanged: `new DefaultChatTransport({ api: BASE + '/api/chat', headers })` and
 * `useChat({ id: sessionId, transport })`. The chat id is the session id; only the newest user
 * message is read (the session's history lives here, not in the client).
 *   POST /api/chat             send (text parts, and file parts as data: URLs become attachments)
 *   GET  /api/chat/:id/stream  resume the reply being generated (204 when there is none)
 *   POST /api/chat/:id/stop    stop the reply being generated (204 when there is none)
 * useChat's own stop() only closes the connection ("I left"); the reply goes on and is stored.
 */
export const uiChatRoutes = new Hono<HonoEnv>();

const filePart = z.object({
  type: z.literal('file'),
  mediaType: z.string().max(100),
  filename: z.string().max(255).optional(),
  url: z.string().max(70_000_000),
});
const textPart = z.object({ type: z.literal('text'), text: z.string().max(100_000) });
const uiRequest = z.object({
  id: z.string().min(1).max(100),
  messages: z
    .array(
      z.object({
        role: z.enum(['user', 'assistant', 'system']),
        parts: z.array(z.union([textPart, filePart, z.object({ type: z.string() }).loose()])).max(50),
      }),
    )
    .min(1)
    .max(1_000),
});

function attachmentFromFilePart(part: z.infer<typeof filePart>, index: number) {
  const match = /^data:([^;,]*)(;[^,]*)?,(.*)$/s.exec(part.url);
  if (!match?.[2]?.includes('base64')) {
    throw new AppError('BAD_REQUEST', `File part ${index + 1} must be a base64 data: URL.`);
  }
  return { filename: part.filename ?? `file-${index + 1}`, mimeType: part.mediaType, data: match[3] ?? '' };
}

/**
 * Turn events as UI message chunks: one text part per reply, metadata with the stored ids. The AI SDK's
 * error chunk admits only `errorText`, so there the request id is in the X-Request-Id header alone.
 */
function toUIStream(ctx: Context, events: AsyncIterable<TurnEvent>, first?: TurnEvent) {
  return createUIMessageStream({
    execute: async ({ writer }) => {
      let started = false;
      const write = (chunk: UIMessageChunk) => writer.write(chunk);
      const handle = (event: TurnEvent) => {
        if (event.type === 'message') {
          if (!event.replyId) return;
          write({ type: 'start', messageId: event.replyId, messageMetadata: { userMessageId: event.message.id } });
          write({ type: 'text-start', id: event.replyId });
          started = true;
        } else if (event.type === 'delta') {
          if (!started) {
            write({ type: 'start', messageId: event.replyId });
            write({ type: 'text-start', id: event.replyId });
            started = true;
          }
          write({ type: 'text-delta', id: event.replyId, delta: event.text });
        } else {
          const reply = event.message;
          if (!started) {
            write({ type: 'start', messageId: reply.id });
            write({ type: 'text-start', id: reply.id });
          }
          write({ type: 'text-end', id: reply.id });
          write({ type: 'message-metadata', messageMetadata: { status: reply.status, ...reply.metadata } });
          if (reply.status === 'INCOMPLETE') {
            const error = reply.metadata.error as { message?: string } | undefined;
            write({ type: 'error', errorText: error?.message ?? 'The reply could not be completed.' });
          } else {
            write({ type: 'finish', finishReason: reply.status === 'STOPPED' ? 'other' : 'stop' });
          }
        }
      };
      if (first) handle(first);
      for await (const event of events) handle(event);
    },
    // Headers are sent by now: a known failure (database outage: 503, retry) is told in the stream.
    onError: (error) => {
      const appError = toAppError(error);
      logFailure({ requestId: ctx.requestId, env: ctx.env }, 'POST /api/chat (stream)', appError, error);
      return appError.appCode === 'INTERNAL' ? INTERNAL_MESSAGE : appError.message;
    },
  });
}

uiChatRoutes.post('/', async (c) => {
  const ctx = requestContext(c);
  const auth = await authenticateRequest(ctx);
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new AppError('BAD_REQUEST', 'Body must be JSON.');
  }
  const parsed = uiRequest.safeParse(body);
  if (!parsed.success) throw new AppError('BAD_REQUEST', describeIssues(parsed.error));
  const last = parsed.data.messages.at(-1);
  if (last?.role !== 'user') throw new AppError('BAD_REQUEST', 'The last message must be a user message.');
  const content = last.parts
    .filter((p): p is z.infer<typeof textPart> => p.type === 'text' && typeof p.text === 'string')
    .map((p) => p.text)
    .join('\n');
  const files = last.parts.filter((p): p is z.infer<typeof filePart> => p.type === 'file');
  const input = sendMessageInput.safeParse({
    chatSessionId: parsed.data.id,
    content,
    role: 'USER',
    attachments: files.map(attachmentFromFilePart),
  });
  if (!input.success) throw new AppError('BAD_REQUEST', describeIssues(input.error));
  assertModelConfigured(ctx.config.model);
  const attachments = await prepareAttachments({ ...ctx, auth }, input.data.chatSessionId, input.data.attachments);
  const events = await startTurnStream({ ...ctx, auth }, { ...input.data, attachments });
  // Wait for the user's message to be stored, so refusals (unknown or archived session) get a status.
  const first = await events.next();
  const rest = { [Symbol.asyncIterator]: () => events };
  return createUIMessageStreamResponse({ stream: toUIStream(ctx, rest, first.done ? undefined : first.value) });
});

uiChatRoutes.get('/:id/stream', async (c) => {
  const ctx = requestContext(c);
  const auth = await authenticateRequest(ctx);
  // Asked of the session's object directly: no database query, and nothing while it streams.
  const events = await followCurrentReply({ ...ctx, auth }, c.req.param('id'));
  if (!events) return c.body(null, 204);
  return createUIMessageStreamResponse({ stream: toUIStream(ctx, events) });
});

/**
 * Stops the session's reply being generated (what was generated is kept, STOPPED) and answers
 * the stored reply; 204 when nothing is being generated. From useChat:
 *   stop: () => fetch(`/api/chat/${id}/stop`, { method: 'POST', headers })
 */
uiChatRoutes.post('/:id/stop', async (c) => {
  const ctx = requestContext(c);
  const auth = await authenticateRequest(ctx);
  const reply = await stopCurrentReply({ ...ctx, auth }, c.req.param('id'));
  return reply ? c.json(reply) : c.body(null, 204);
});
