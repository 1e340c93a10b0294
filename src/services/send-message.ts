import { buildPrompt } from '../ai/prompt';
import { generateReply, type ReplyOutcome } from '../ai/reply';
import {
  beginTurn,
  finishReply,
  type MessageRole,
  type NewAttachment,
  saveReplyProgress,
} from '../db/queries/messages';
import { intSetting } from '../env';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { AuthedContext } from '../trpc/context';
import { type MessageView, messageView } from '../views/message';
import { registerReply, unregisterReply } from './reply-registry';

export type SendMessageInput = {
  chatSessionId: string;
  content: string;
  role: MessageRole;
  metadata?: Record<string, unknown> | undefined;
  attachments: NewAttachment[];
};

export type TurnHooks = {
  /** Called once the user's message is committed, before the model is called. */
  onStored?: (message: MessageView, replyId: string | null) => void;
  onDelta?: (delta: string) => void;
  stopSignal?: AbortSignal;
};

export type TurnResult = {
  message: MessageView;
  /** The stored reply (any status); null for ASSISTANT/SYSTEM sends, which get no reply. */
  reply: MessageView | null;
  outcome: ReplyOutcome | null;
};

const HISTORY_LIMIT = 200;
/** How often a reply being generated saves its text so far (and checks for a stop request). */
export const PROGRESS_INTERVAL_MS = 1_000;

/**
 * One conversation turn. Round trip 1 stores the message (and a reply placeholder) and reads the
 * persona and history; the model runs; round trip 2 stores the reply, complete or not. The user's
 * message is committed before the model is called, so no failure after that point can lose it.
 */
export async function runTurn(ctx: AuthedContext, input: SendMessageInput, hooks: TurnHooks = {}): Promise<TurnResult> {
  const { db, auth, env } = ctx;
  const wantsReply = input.role === 'USER';
  const begun = await beginTurn(db, auth.organizationId, {
    chatSessionId: input.chatSessionId,
    message: { id: newId('message'), role: input.role, content: input.content, metadata: input.metadata ?? {} },
    attachments: input.attachments,
    replyId: wantsReply ? newId('message') : undefined,
    historyLimit: HISTORY_LIMIT,
  });
  if (!begun.session) throw new AppError('NOT_FOUND', `Chat session ${input.chatSessionId} not found.`);
  if (!begun.message) {
    if (begun.session.personaDeleted) {
      throw new AppError('CONFLICT', 'This session’s persona has been deleted; the session is read-only.');
    }
    throw new AppError(
      'CONFLICT',
      'This chat session is archived. Reactivate it with chat.updateSession {"status":"ACTIVE"} before sending.',
    );
  }
  const message = messageView(begun.message);
  if (!wantsReply || !begun.reply) {
    hooks.onStored?.(message, null);
    return { message, reply: null, outcome: null };
  }
  hooks.onStored?.(message, begun.reply.id);

  const persona = begun.session.persona;
  const replyId = begun.reply.id;
  const budget = intSetting(env.CONTEXT_TOKEN_BUDGET, 16_000);
  const prompt = buildPrompt(persona, begun.history, budget);
  const model = ctx.services.resolveModel(persona);

  // Stop requests: the caller's signal, one landing in this isolate, or one seen in the database.
  const stop = new AbortController();
  const local = registerReply(replyId);
  hooks.stopSignal?.addEventListener('abort', () => stop.abort());
  const stopWatch = setInterval(() => {
    if (local.stopRequested) stop.abort();
  }, 50);
  let text = '';
  let saving: Promise<void> | undefined;
  const progress = setInterval(() => {
    if (saving) return;
    const snapshot = text;
    saving = saveReplyProgress(db, auth.organizationId, replyId, snapshot)
      .then((stillStreaming) => {
        if (!stillStreaming) stop.abort();
      })
      .catch((error: unknown) => console.warn('could not save reply progress', { replyId, error: String(error) }))
      .finally(() => {
        saving = undefined;
      });
  }, PROGRESS_INTERVAL_MS);

  let outcome: Awaited<ReturnType<typeof generateReply>>;
  try {
    outcome = await generateReply({
      model,
      prompt,
      settings: { temperature: persona.temperature, maxOutputTokens: persona.maxOutputTokens },
      idleTimeoutMs: intSetting(env.MODEL_TIMEOUT_MS, 60_000),
      maxRetries: intSetting(env.MODEL_MAX_RETRIES, 2),
      stopSignal: stop.signal,
      onDelta: (delta) => {
        text += delta;
        hooks.onDelta?.(delta);
      },
    });
  } finally {
    clearInterval(progress);
    clearInterval(stopWatch);
    unregisterReply(replyId);
    await saving;
  }

  const omitted = Math.max(0, begun.session.messageCount - 1 - prompt.context.messagesIncluded);
  const metadata: Record<string, unknown> = {
    model: model.label,
    offline: model.offline,
    personaId: persona.id,
    personaVersion: persona.version,
    settings: { temperature: persona.temperature, maxOutputTokens: persona.maxOutputTokens },
    usage: outcome.usage,
    finishReason: outcome.finishReason,
    latencyMs: outcome.latencyMs,
    timeToFirstTokenMs: outcome.timeToFirstTokenMs,
    context: { ...prompt.context, messagesOmitted: omitted },
    ...(outcome.error ? { error: { code: outcome.error.appCode, message: outcome.error.message } } : {}),
  };
  const stored = await finishReply(db, auth.organizationId, {
    id: replyId,
    content: outcome.text,
    status: outcome.status,
    metadata,
  });
  const reply = stored ? messageView(stored) : null;
  return { message, reply, outcome };
}
