import { resolveEmbedder } from '../ai/embedder';
import { buildPrompt } from '../ai/prompt';
import { generateReply, type ReplyOutcome } from '../ai/reply';
import type { HistoryMessage } from '../db/queries/messages';
import { type BeginTurnResult, beginTurn, finishReply, type TurnSession } from '../db/queries/turns';
import { AppError } from '../errors';
import { attachmentView, type MessageView, messageView } from '../views/message';
import type { EarlyCall } from './early-call';
import { NO_KNOWLEDGE, retrieveForTurn, withoutWholeAttachments } from './retrieval';
import { promptKey, windowHistory } from './turn-cache';
import { notStored } from './turn-refusals';
import type {
  IndexingReport,
  PlannedCall,
  SendMessageInput,
  TurnDeps,
  TurnHooks,
  TurnInput,
  TurnLimits,
} from './turn-types';

/** The steps of a turn (send-message.ts runs them in order): store, prompt, generate, save, finish. */

export type BegunTurn = BeginTurnResult & { session: TurnSession };

/**
 * Claim and store, the turn's first round trip: the message (and a STREAMING reply placeholder)
 * is stored, and the Idempotency-Key claimed, only if the session can take it; the persona and
 * the history are read in the same transaction.
 */
export async function storeTurn(deps: TurnDeps, turn: TurnInput, limits: TurnLimits): Promise<BegunTurn> {
  const { input, claim, messageId } = turn;
  const begun = await beginTurn(deps.db, deps.organizationId, {
    chatSessionId: input.chatSessionId,
    message: { id: messageId, role: input.role, content: input.content, metadata: input.metadata ?? {} },
    attachments: input.attachments,
    replyId: input.role === 'USER' ? turn.replyId : undefined,
    ...limits,
    defaultDailyModelCalls: deps.config.limits.dailyModelCalls,
    idempotency: claim,
  });
  if (!begun.session) throw new AppError('NOT_FOUND', `Chat session ${input.chatSessionId} not found.`);
  if (begun.webhookEvents > 0) deps.onWebhookEvents?.();
  return { ...begun, session: begun.session };
}

/** The stored message as the API shows it; when nothing was stored, the reason is thrown. */
export function storedMessage(begun: BegunTurn, input: SendMessageInput): MessageView {
  if (!begun.message) throw notStored(begun.session, input.role === 'USER');
  const stored = messageView(begun.message);
  // The statement returns the message row only; its attachments were stored beside it.
  const attachments = input.attachments.map((a) =>
    attachmentView({
      ...a,
      indexStatus: a.indexLater ? 'PENDING' : null,
      text: undefined,
      createdAt: stored.createdAt,
    }),
  );
  return { ...stored, attachments };
}

/**
 * Prompt: the early call's, when it was made with exactly this turn's persona and history (it
 * knows no passages, so a persona with knowledge always gets a fresh one); otherwise the prompt is
 * built from what the round trip read, with the knowledge retrieved for the message.
 */
export async function planCall(
  deps: TurnDeps,
  begun: BegunTurn,
  input: SendMessageInput,
  limits: TurnLimits,
  early: EarlyCall | undefined,
  indexing?: IndexingReport,
): Promise<PlannedCall & { early?: EarlyCall }> {
  const { session, history } = begun;
  const persona = session.persona;
  // An attachment indexed on the queue since the round trip read `hasKnowledge` has chunks now.
  const hasKnowledge = session.hasKnowledge || indexing !== undefined;
  if (early && !hasKnowledge && early.key === promptKey(persona, history)) {
    return { prompt: early.prompt, model: early.model, knowledge: NO_KNOWLEDGE, early };
  }
  early?.cancel();
  // Knowledge (issue 17): passages of the persona's sources and of the session's chunked attachments.
  let knowledge = hasKnowledge
    ? await retrieveForTurn(deps.db, deps.log, {
        organizationId: deps.organizationId,
        personaId: persona.id,
        question: input.content,
        tokenBudget: deps.config.context.knowledgeTokenBudget,
        chatSessionId: input.chatSessionId,
        embedder: session.embeddingModel ? resolveEmbedder(deps.config) : null,
        embeddingModel: session.embeddingModel,
      })
    : NO_KNOWLEDGE;
  let prompt = buildPrompt(persona, history, limits.budget, { knowledge: knowledge.passages });
  // Passages of an attachment the prompt holds whole are dropped (the build is pure and cheap).
  const trimmed = withoutWholeAttachments(knowledge, prompt.context.attachmentsIncluded, history);
  if (trimmed) {
    knowledge = trimmed;
    prompt = buildPrompt(persona, history, limits.budget, { knowledge: knowledge.passages });
  }
  return { prompt, model: deps.resolveModel(persona), knowledge, ...(indexing ? { indexing } : {}) };
}

/** Generate: the early call's text is released only now, after the message committed. */
export function generate(
  deps: TurnDeps,
  persona: TurnSession['persona'],
  call: PlannedCall & { early?: EarlyCall },
  hooks: TurnHooks,
): Promise<ReplyOutcome> {
  if (call.early) {
    call.early.release();
    return call.early.run;
  }
  return generateReply({
    model: call.model,
    prompt: call.prompt,
    settings: { temperature: persona.temperature, maxOutputTokens: persona.maxOutputTokens },
    idleTimeoutMs: deps.config.model.timeoutMs,
    maxRetries: deps.config.model.maxRetries,
    ...(hooks.stopSignal ? { stopSignal: hooks.stopSignal } : {}),
    ...(hooks.onDelta ? { onDelta: hooks.onDelta } : {}),
  });
}

/** What the reply's metadata records about how it was made. */
function replyMetadata(begun: BegunTurn, call: PlannedCall, outcome: ReplyOutcome): Record<string, unknown> {
  const { persona, messageCount } = begun.session;
  const { prompt, model, knowledge } = call;
  const omitted = Math.max(0, messageCount - 1 - prompt.context.messagesIncluded);
  return {
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
    // Knowledge (issue 17): the passages the model got, for citations.
    knowledge: {
      used: knowledge.used,
      ...(knowledge.error ? { error: knowledge.error } : {}),
      ...(call.indexing ? { indexing: call.indexing } : {}),
    },
    ...(outcome.error ? { error: { code: outcome.error.appCode, message: outcome.error.message } } : {}),
  };
}

/** Save, the turn's last round trip: the placeholder becomes the reply, complete or not. */
export async function saveReply(
  deps: TurnDeps,
  begun: BegunTurn,
  replyId: string,
  call: PlannedCall,
  outcome: ReplyOutcome,
): Promise<MessageView | null> {
  const metadata = replyMetadata(begun, call, outcome);
  const input = { id: replyId, content: outcome.text, status: outcome.status, metadata };
  const finished = await finishReply(deps.db, deps.organizationId, input);
  if (finished.webhookEvents > 0) deps.onWebhookEvents?.();
  return finished.reply ? messageView(finished.reply) : null;
}

/**
 * Finish: the session object remembers this turn's persona and history (with the reply) for the
 * next turn's early call, or forgets when the reply was not stored. Sessions whose persona has
 * knowledge are not called early (their prompt needs retrieval first).
 */
export function rememberTurn(
  deps: TurnDeps,
  begun: BegunTurn,
  reply: MessageView | null,
  outcome: ReplyOutcome,
  limits: TurnLimits,
): void {
  if (!reply || begun.session.hasKnowledge) {
    deps.remember?.(undefined);
    return;
  }
  const last: HistoryMessage = {
    id: reply.id,
    role: 'ASSISTANT',
    content: outcome.text,
    status: outcome.status,
    attachments: [],
  };
  deps.remember?.({
    persona: begun.session.persona,
    history: windowHistory([...begun.history, last], limits),
    at: Date.now(),
  });
}
