import type { ResolvedModel } from '../ai/model';
import { type BuiltPrompt, buildPrompt } from '../ai/prompt';
import { generateReply, type ReplyOutcome } from '../ai/reply';
import { extractAttachments } from '../attachments/extract';
import type { AttachmentInput } from '../attachments/input';
import { sha256Hex } from '../auth/keys';
import type { Db } from '../db/client';
import type { IdempotencyClaim } from '../db/queries/idempotency';
import { getMessage, type MessageRole } from '../db/queries/messages';
import { getSessionState } from '../db/queries/sessions';
import { beginTurn, finishReply, type NewAttachment } from '../db/queries/turns';
import { type Env, intSetting } from '../env';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { AuthedContext } from '../trpc/context';
import { type MessageView, messageView } from '../views/message';
import type { Services } from '.';
import { NO_KNOWLEDGE, retrieveForTurn, withoutWholeAttachments } from './retrieval';
import { newHistoryMessage, promptKey, type TurnCache, WARM_MS, windowHistory } from './turn-cache';

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
  /** Called once when a new reply placeholder is committed (not for an Idempotency-Key replay). */
  onReplyStarted?: (replyId: string) => void;
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
/**
 * Characters of history (message text plus attachment text) read per token of budget: the prompt
 * estimates 4 characters a token, so more than this can never fit. The read stops in SQL at the
 * first message that passes it (that one is still read, so the prompt can note the cut).
 */
const HISTORY_CHARS_PER_TOKEN = 4;
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
  return extractAttachments(inputs, ctx.config.attachments);
}

/** Seconds until the next UTC midnight, when daily model-call counts start again. */
export function secondsUntilUtcMidnight(now = new Date()): number {
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

/**
 * The answer to a retry whose Idempotency-Key an earlier request holds. Turns of one session run
 * one at a time in its Durable Object, so by the time a retry runs the original has finished; a
 * reply still STREAMING here lost its generator (the object's alarm closes it), so the retry is
 * told to come back rather than waiting on it.
 */
async function replayTurn(deps: TurnDeps, replyOrMessageId: string, hooks: TurnHooks): Promise<TurnResult> {
  const row = await getMessage(deps.db, deps.organizationId, replyOrMessageId);
  if (!row)
    throw new AppError('CONFLICT', 'The request that used this Idempotency-Key did not complete; use a new key.');
  if (row.role !== 'ASSISTANT' || row.replyToId === null) {
    const message = messageView(row);
    hooks.onStored?.(message, null);
    return { message, reply: null, outcome: null, replayed: true };
  }
  if (row.status === 'STREAMING') {
    throw new AppError('CONFLICT', 'The request with this Idempotency-Key is still in progress; retry later.', {
      retryAfter: 5,
    });
  }
  const user = await getMessage(deps.db, deps.organizationId, row.replyToId);
  if (!user) throw new AppError('CONFLICT', 'The original message of this Idempotency-Key was deleted.');
  const reply = messageView(row);
  hooks.onStored?.(messageView(user), reply.id);
  if (reply.content) hooks.onDelta?.(reply.content);
  return { message: messageView(user), reply, outcome: null, replayed: true };
}

/** What a turn needs, wherever it runs (the session's Durable Object). */
export type TurnDeps = {
  db: Db;
  env: Env;
  organizationId: string;
  resolveModel: Services['resolveModel'];
  /** The session object's memory of its last turn, and how to update it (src/services/turn-cache.ts). */
  cache?: TurnCache | undefined;
  remember?: (cache: TurnCache | undefined) => void;
};

type EarlyCall = {
  key: string;
  prompt: BuiltPrompt;
  model: ResolvedModel;
  run: Promise<ReplyOutcome>;
  /** The user's message is committed: hand over what arrived and pass the rest straight on. */
  release: () => void;
  /** The guess was wrong or the turn was refused: abort the call; nothing it produced is heard. */
  cancel: () => void;
};

/**
 * For a warm session, calls the model before the turn's round trip returns, with the prompt the
 * object expects that round trip to confirm. Its text is held back until `release`.
 */
function callEarly(
  deps: TurnDeps,
  input: SendMessageInput,
  messageId: string,
  limits: { budget: number; historyChars: number; attachmentChars: number },
  hooks: TurnHooks,
): EarlyCall | undefined {
  const cache = deps.cache;
  if (!cache || Date.now() - cache.at > WARM_MS) return undefined;
  const next = newHistoryMessage(messageId, input.role, input.content, input.attachments, limits.attachmentChars);
  if (!next) return undefined;
  const history = windowHistory([...cache.history, next], limits.historyChars, HISTORY_LIMIT, limits.attachmentChars);
  const prompt = buildPrompt(cache.persona, history, limits.budget);
  const model = deps.resolveModel(cache.persona);
  const abort = new AbortController();
  hooks.stopSignal?.addEventListener('abort', () => abort.abort());
  let released = false;
  const held: string[] = [];
  const run = generateReply({
    model,
    prompt,
    settings: { temperature: cache.persona.temperature, maxOutputTokens: cache.persona.maxOutputTokens },
    idleTimeoutMs: intSetting(deps.env.MODEL_TIMEOUT_MS, 60_000),
    maxRetries: intSetting(deps.env.MODEL_MAX_RETRIES, 2),
    stopSignal: abort.signal,
    onDelta: (delta) => {
      if (released) hooks.onDelta?.(delta);
      else held.push(delta);
    },
  });
  return {
    key: promptKey(cache.persona, history),
    prompt,
    model,
    run,
    release: () => {
      released = true;
      for (const delta of held.splice(0)) hooks.onDelta?.(delta);
    },
    cancel: () => abort.abort(),
  };
}

/**
 * One conversation turn, run by the session's Durable Object. Round trip 1 stores the message (and
 * a STREAMING reply placeholder) and reads the persona and history; the model runs; round trip 2
 * stores the reply, complete or not. The user's message is committed before the model is called,
 * so no failure after that point can lose it. Nothing is written to Postgres while the model runs:
 * progress lives in the object (its memory and its own storage), so a turn costs Postgres the same
 * two statements whatever the reply's length or the number of listeners.
 */
export async function executeTurn(
  deps: TurnDeps,
  input: SendMessageInput,
  claim: IdempotencyClaim | undefined,
  ids: { messageId: string; replyId: string | undefined },
  hooks: TurnHooks = {},
): Promise<TurnResult> {
  const wantsReply = input.role === 'USER';
  const { messageId } = ids;
  const replyId = wantsReply ? ids.replyId : undefined;
  const budget = intSetting(deps.env.CONTEXT_TOKEN_BUDGET, DEFAULT_CONTEXT_TOKENS);
  const limits = { budget, historyChars: budget * HISTORY_CHARS_PER_TOKEN, attachmentChars: budget * 4 };
  // A warm session's model call starts now, overlapping the round trip that stores the message.
  const early = wantsReply && !claim ? callEarly(deps, input, messageId, limits, hooks) : undefined;
  try {
    return await runTurnAfterEarlyStart(deps, input, claim, { messageId, replyId }, hooks, limits, early);
  } catch (error) {
    early?.cancel();
    deps.remember?.(undefined);
    throw error;
  }
}

async function runTurnAfterEarlyStart(
  deps: TurnDeps,
  input: SendMessageInput,
  claim: IdempotencyClaim | undefined,
  ids: { messageId: string; replyId: string | undefined },
  hooks: TurnHooks,
  limits: { budget: number; historyChars: number; attachmentChars: number },
  early: EarlyCall | undefined,
): Promise<TurnResult> {
  const { db, env, organizationId } = deps;
  const wantsReply = input.role === 'USER';
  const { messageId, replyId } = ids;
  const { budget } = limits;
  const begun = await beginTurn(db, organizationId, {
    chatSessionId: input.chatSessionId,
    message: { id: messageId, role: input.role, content: input.content, metadata: input.metadata ?? {} },
    attachments: input.attachments,
    replyId,
    historyLimit: HISTORY_LIMIT,
    historyChars: limits.historyChars,
    attachmentChars: limits.attachmentChars,
    defaultDailyModelCalls: intSetting(env.DAILY_MODEL_CALL_CAP, DEFAULT_DAILY_MODEL_CALLS),
    idempotency: claim,
  });
  if (!begun.session) throw new AppError('NOT_FOUND', `Chat session ${input.chatSessionId} not found.`);
  if (claim && begun.idempotency && begun.idempotency.claimId !== claim.claimId) {
    assertSameRequest(begun.idempotency, claim);
    return replayTurn(deps, begun.idempotency.resourceId, hooks);
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
    early?.cancel();
    // A message without a reply changed the history behind the object's memory.
    deps.remember?.(undefined);
    hooks.onStored?.(message, null);
    return { message, reply: null, outcome: null, replayed: false };
  }
  const placeholderId = begun.reply.id;
  hooks.onReplyStarted?.(placeholderId);
  hooks.onStored?.(message, placeholderId);

  const persona = begun.session.persona;
  let prompt: BuiltPrompt;
  let model: ResolvedModel;
  // Knowledge (issue 17): passages of the persona's sources for this USER turn, and what was used.
  // Issue 17: the session's chunked attachments are searched too (passages past what fits whole).
  let knowledge = begun.session.hasKnowledge
    ? await retrieveForTurn(db, env, organizationId, persona.id, input.content, budget, input.chatSessionId)
    : NO_KNOWLEDGE;
  let outcome: ReplyOutcome;
  // The early call knows no passages: a persona with knowledge always gets a fresh call.
  if (early && !begun.session.hasKnowledge && early.key === promptKey(persona, begun.history)) {
    // The early call was made with exactly this turn's persona and history: its text is released
    // only now, after the message committed.
    ({ prompt, model } = early);
    early.release();
    outcome = await early.run;
  } else {
    early?.cancel();
    prompt = buildPrompt(persona, begun.history, budget, { knowledge: knowledge.passages });
    // Issue 17: passages of an attachment the prompt holds whole are dropped (the build is pure and cheap).
    const trimmed = withoutWholeAttachments(knowledge, prompt.context.attachmentsIncluded);
    if (trimmed) {
      knowledge = trimmed;
      prompt = buildPrompt(persona, begun.history, budget, { knowledge: knowledge.passages });
    }
    model = deps.resolveModel(persona);
    outcome = await generateReply({
      model,
      prompt,
      settings: { temperature: persona.temperature, maxOutputTokens: persona.maxOutputTokens },
      idleTimeoutMs: intSetting(env.MODEL_TIMEOUT_MS, 60_000),
      maxRetries: intSetting(env.MODEL_MAX_RETRIES, 2),
      ...(hooks.stopSignal ? { stopSignal: hooks.stopSignal } : {}),
      ...(hooks.onDelta ? { onDelta: hooks.onDelta } : {}),
    });
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
  const finished = await finishReply(db, organizationId, {
    id: placeholderId,
    content: outcome.text,
    status: outcome.status,
    metadata,
  });
  const reply = finished ? messageView(finished) : null;
  deps.remember?.(
    // Sessions whose persona has knowledge are not called early (their prompt needs retrieval first).
    finished && !begun.session.hasKnowledge
      ? {
          persona,
          history: windowHistory(
            [
              ...begun.history,
              { id: placeholderId, role: 'ASSISTANT', content: outcome.text, status: outcome.status, attachments: [] },
            ],
            limits.historyChars,
            HISTORY_LIMIT,
            limits.attachmentChars,
          ),
          at: Date.now(),
        }
      : undefined,
  );
  return { message, reply, outcome, replayed: false };
}
