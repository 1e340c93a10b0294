import { buildPrompt } from '../ai/prompt';
import { generateReply, type ReplyOutcome } from '../ai/reply';
import { extractAttachments } from '../attachments/extract';
import type { AttachmentInput } from '../attachments/input';
import { sha256Hex } from '../auth/keys';
import type { IdempotencyClaim } from '../db/queries/idempotency';
import { getMessage, type MessageRole, saveReplyProgress } from '../db/queries/messages';
import { getSessionState } from '../db/queries/sessions';
import { beginTurn, finishReply, type NewAttachment } from '../db/queries/turns';
import { intSetting } from '../env';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { AuthedContext } from '../trpc/context';
import { type MessageView, messageView } from '../views/message';
import { registerReply, unregisterReply } from './reply-registry';
import { NO_KNOWLEDGE, retrieveForTurn } from './retrieval';

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
  /** True when an Idempotency-Key matched an earlier request whose result this is. */
  replayed: boolean;
};

const HISTORY_LIMIT = 200;
/** How often a reply being generated saves its text so far (and checks for a stop request). */
export const PROGRESS_INTERVAL_MS = 1_000;
export const DEFAULT_DAILY_MODEL_CALLS = 5_000;
export const DEFAULT_CONTEXT_TOKENS = 16_000;

/** Why a session cannot take a message now, if it cannot. */
export function sessionRefusal(session: { status: string; personaDeleted: boolean }): AppError | undefined {
  if (session.personaDeleted) {
    return new AppError('CONFLICT', 'This session’s persona has been deleted; the session is read-only.');
  }
  if (session.status === 'ARCHIVED') {
    return new AppError(
      'CONFLICT',
      'This chat session is archived. Reactivate it with chat.updateSession {"status":"ACTIVE"} before sending.',
    );
  }
  return undefined;
}

/**
 * Validates and extracts a message's attachments. With attachments, the session is checked first
 * (one cheap query), so a send that would be refused does not pay for parsing a PDF and gets the
 * same 404/409 as without attachments.
 */
export async function prepareAttachments(
  ctx: AuthedContext,
  chatSessionId: string,
  inputs: AttachmentInput[],
): Promise<NewAttachment[]> {
  if (inputs.length === 0) return [];
  const state = await getSessionState(ctx.db, ctx.auth.organizationId, chatSessionId);
  if (!state) throw new AppError('NOT_FOUND', `Chat session ${chatSessionId} not found.`);
  const refusal = sessionRefusal(state);
  if (refusal) throw refusal;
  return extractAttachments(inputs, ctx.env);
}

/** Seconds until the next UTC midnight, when daily model-call counts start again. */
function secondsUntilUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((midnight - now.getTime()) / 1000);
}

/** An Idempotency-Key claim for this request: the key, what it is for, and a hash of the payload. */
export async function idempotencyClaim(
  headers: Headers,
  procedure: string,
  payload: unknown,
  resourceId: string,
): Promise<IdempotencyClaim | undefined> {
  const key = headers.get('idempotency-key')?.trim();
  if (key === undefined || key === '') return undefined;
  if (key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new AppError('BAD_REQUEST', 'Idempotency-Key must be 1–255 printable ASCII characters.');
  }
  return {
    key,
    procedure,
    requestHash: await sha256Hex(JSON.stringify(payload)),
    claimId: newId('message'),
    resourceId,
  };
}

export function assertSameRequest(record: { procedure: string; requestHash: string }, claim: IdempotencyClaim): void {
  if (record.procedure !== claim.procedure || record.requestHash !== claim.requestHash) {
    throw new AppError(
      'UNPROCESSABLE',
      'This Idempotency-Key was already used with a different request. Use a new key for a new request.',
    );
  }
}

/** Waits for an earlier request's reply to finish (it may still be generating), then returns it. */
async function replayTurn(ctx: AuthedContext, replyOrMessageId: string, hooks: TurnHooks): Promise<TurnResult> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const row = await getMessage(ctx.db, ctx.auth.organizationId, replyOrMessageId);
    if (!row)
      throw new AppError('CONFLICT', 'The request that used this Idempotency-Key did not complete; use a new key.');
    if (row.role !== 'ASSISTANT' || row.replyToId === null) {
      const message = messageView(row);
      hooks.onStored?.(message, null);
      return { message, reply: null, outcome: null, replayed: true };
    }
    if (row.status !== 'STREAMING') {
      const user = await getMessage(ctx.db, ctx.auth.organizationId, row.replyToId);
      if (!user) throw new AppError('CONFLICT', 'The original message of this Idempotency-Key was deleted.');
      const reply = messageView(row);
      hooks.onStored?.(messageView(user), reply.id);
      if (reply.content) hooks.onDelta?.(reply.content);
      return { message: messageView(user), reply, outcome: null, replayed: true };
    }
    if (Date.now() > deadline) {
      throw new AppError('CONFLICT', 'The request with this Idempotency-Key is still in progress; retry later.', {
        retryAfter: 5,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * One conversation turn. Round trip 1 stores the message (and a reply placeholder) and reads the
 * persona and history; the model runs; round trip 2 stores the reply, complete or not. The user's
 * message is committed before the model is called, so no failure after that point can lose it.
 */
export async function runTurn(ctx: AuthedContext, input: SendMessageInput, hooks: TurnHooks = {}): Promise<TurnResult> {
  const { db, auth, env } = ctx;
  const wantsReply = input.role === 'USER';
  const messageId = newId('message');
  const replyId = wantsReply ? newId('message') : undefined;
  const claim = await idempotencyClaim(
    ctx.headers,
    'chat.sendMessage',
    { ...input, attachments: input.attachments.map((a) => a.sha256) },
    replyId ?? messageId,
  );
  const begun = await beginTurn(db, auth.organizationId, {
    chatSessionId: input.chatSessionId,
    message: { id: messageId, role: input.role, content: input.content, metadata: input.metadata ?? {} },
    attachments: input.attachments,
    replyId,
    historyLimit: HISTORY_LIMIT,
    attachmentChars: intSetting(env.CONTEXT_TOKEN_BUDGET, DEFAULT_CONTEXT_TOKENS) * 4,
    defaultDailyModelCalls: intSetting(env.DAILY_MODEL_CALL_CAP, DEFAULT_DAILY_MODEL_CALLS),
    idempotency: claim,
  });
  if (!begun.session) throw new AppError('NOT_FOUND', `Chat session ${input.chatSessionId} not found.`);
  if (claim && begun.idempotency && begun.idempotency.claimId !== claim.claimId) {
    assertSameRequest(begun.idempotency, claim);
    return replayTurn(ctx, begun.idempotency.resourceId, hooks);
  }
  if (!begun.message) {
    const refusal = sessionRefusal(begun.session);
    if (refusal) throw refusal;
    if (wantsReply && begun.session.modelCallsToday >= begun.session.dailyModelCallCap) {
      throw new AppError(
        'RATE_LIMITED',
        `This organization has used its ${begun.session.dailyModelCallCap} model calls for today (UTC); the count resets at midnight UTC.`,
        { retryAfter: secondsUntilUtcMidnight() },
      );
    }
    throw new AppError('CONFLICT', 'The message could not be stored; please retry.');
  }
  const stored = messageView(begun.message);
  // The statement returns the message row only; its attachments were stored beside it.
  const message: MessageView = {
    ...stored,
    attachments: input.attachments.map((a) => ({
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
      createdAt: stored.createdAt,
    })),
  };
  if (!wantsReply || !begun.reply) {
    hooks.onStored?.(message, null);
    return { message, reply: null, outcome: null, replayed: false };
  }
  hooks.onStored?.(message, begun.reply.id);
  const placeholderId = begun.reply.id;

  const persona = begun.session.persona;
  const budget = intSetting(env.CONTEXT_TOKEN_BUDGET, DEFAULT_CONTEXT_TOKENS);
  // Knowledge (issue 17): passages of the persona's sources for this USER turn, and what was used.
  const knowledge = begun.session.hasKnowledge
    ? await retrieveForTurn(db, env, auth.organizationId, persona.id, input.content, budget)
    : NO_KNOWLEDGE;
  const prompt = buildPrompt(persona, begun.history, budget, { knowledge: knowledge.passages });
  const model = ctx.services.resolveModel(persona);

  // Stop requests: the caller's signal, one landing in this isolate, or one seen in the database.
  const stop = new AbortController();
  const local = registerReply(placeholderId);
  hooks.stopSignal?.addEventListener('abort', () => stop.abort());
  const stopWatch = setInterval(() => {
    if (local.stopRequested) stop.abort();
  }, 50);
  let text = '';
  let saving: Promise<void> | undefined;
  const progress = setInterval(() => {
    if (saving) return;
    saving = saveReplyProgress(db, auth.organizationId, placeholderId, text)
      .then((stillStreaming) => {
        if (!stillStreaming) stop.abort();
      })
      .catch((error: unknown) =>
        console.warn('could not save reply progress', { replyId: placeholderId, error: String(error) }),
      )
      .finally(() => {
        saving = undefined;
      });
  }, PROGRESS_INTERVAL_MS);

  let outcome: ReplyOutcome;
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
    unregisterReply(placeholderId);
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
    // Knowledge (issue 17): the passages the model got, for citations.
    knowledge: { used: knowledge.used, ...(knowledge.error ? { error: knowledge.error } : {}) },
    ...(outcome.error ? { error: { code: outcome.error.appCode, message: outcome.error.message } } : {}),
  };
  const finished = await finishReply(db, auth.organizationId, {
    id: placeholderId,
    content: outcome.text,
    status: outcome.status,
    metadata,
  });
  const reply = finished ? messageView(finished) : null;
  return { message, reply, outcome, replayed: false };
}
