import { assertModelConfigured } from '../ai/model';
import { buildPrompt, type HistoryMessage } from '../ai/prompt';
import { generateReply, type ReplyOutcome, type ReplyUsage } from '../ai/reply';
import type { AuthedContext } from '../context';
import { getPersona } from '../db/queries/personas';
import { getSessionState } from '../db/queries/sessions';
import { addCallTokens, claimModelCall } from '../db/queries/usage';
import { AppError, type AppErrorCode } from '../errors';
import { newId } from '../ids';
import { log } from '../log';
import type { MessageView } from '../views/message';
import type { CompletionRequest } from './openai-compat-request';
import { startTurnStream } from './session-object';
import { dailyCapReached, sessionRefusal } from './turn-refusals';
import type { TurnEvent } from './turn-wire';

// The OpenAI-compatible surface's request schema and response shapes, for routes/openai.ts and the OpenAPI document.
export { finishReason, usageOf } from './openai-compat-format';
export { type CompletionRequest, completionRequest, parseCompletionRequest } from './openai-compat-request';

export type CompletionEvent =
  | { type: 'delta'; text: string }
  | {
      type: 'done';
      text: string;
      finishReason: string;
      usage: ReplyUsage;
      /** The model failed or timed out; `text` holds what arrived first. */
      error?: AppError;
    };

export type Completion = {
  /** `chatcmpl-…` when stateless; the stored reply's id when the turn was stored in a session. */
  id: string;
  model: string;
  created: number;
  events: AsyncGenerator<CompletionEvent>;
};

function modelNotFound(id: string): AppError {
  return new AppError(
    'NOT_FOUND',
    `The model '${id}' does not exist: use the id of one of your personas (GET /v1/models).`,
  );
}

const completionId = () => `chatcmpl-${newId('message').replace(/^[a-z]+_/, '')}`;

/** Callback-fed events as an async generator (the model call reports deltas through a callback). */
function channel<T>() {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  return {
    push(item: T) {
      queue.push(item);
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
    async *read(): AsyncGenerator<T> {
      for (;;) {
        const item = queue.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}

/** The request's conversation as history, and its system and developer messages in order. */
function requestConversation(request: CompletionRequest): { systemTexts: string[]; history: HistoryMessage[] } {
  const systemTexts: string[] = [];
  const history: HistoryMessage[] = [];
  request.messages.forEach((m, i) => {
    const text = m.content ?? '';
    if (m.role === 'system' || m.role === 'developer') systemTexts.push(text);
    else {
      const role = m.role === 'user' ? 'USER' : 'ASSISTANT';
      history.push({ id: `request-${i}`, role, content: text, status: 'COMPLETE', attachments: [] });
    }
  });
  return { systemTexts, history };
}

const doneEvent = (outcome: ReplyOutcome): CompletionEvent => ({
  type: 'done',
  text: outcome.text,
  finishReason: outcome.finishReason,
  usage: outcome.usage,
  ...(outcome.error ? { error: outcome.error } : {}),
});

/**
 * Without a session: the persona's instructions (followed by the request's system and developer
 * messages, in order) and the request's conversation, through the same prompt builder, model
 * resolution and limits as a turn. The call counts against the organization's daily cap before the
 * model is called; nothing else is stored.
 */
async function stateless(ctx: AuthedContext, request: CompletionRequest): Promise<Completion> {
  const org = ctx.auth.organizationId;
  const persona = await getPersona(ctx.db, org, request.model);
  if (!persona) throw modelNotFound(request.model);
  assertModelConfigured(ctx.config.model);
  const { systemTexts, history } = requestConversation(request);
  const instructions = [persona.instructions.trim(), ...systemTexts.map((t) => t.trim())].filter(Boolean).join('\n\n');
  const quota = await claimModelCall(ctx.db, org, persona.id, ctx.config.limits.dailyModelCalls);
  if (!quota.allowed) throw dailyCapReached(quota.cap);
  const prompt = buildPrompt({ name: persona.name, instructions }, history, ctx.config.context.tokenBudget);
  const out = channel<CompletionEvent>();
  void generateReply({
    model: ctx.services.resolveModel(persona),
    prompt,
    settings: { temperature: persona.temperature, maxOutputTokens: persona.maxOutputTokens },
    idleTimeoutMs: ctx.config.model.timeoutMs,
    maxRetries: ctx.config.model.maxRetries,
    // Nothing is stored: a client that leaves stops the model call.
    stopSignal: ctx.signal,
    onDelta: (text) => out.push({ type: 'delta', text }),
  }).then((outcome) => {
    // Usage (issue 19): the call was counted with the quota; its tokens once they are known.
    if (outcome.usage.inputTokens || outcome.usage.outputTokens) {
      ctx.waitUntil(
        addCallTokens(ctx.db, org, persona.id, outcome.usage).catch((error: unknown) =>
          log('warn', ctx, 'stateless_call_tokens_not_counted', { personaId: persona.id }, error),
        ),
      );
    }
    out.push(doneEvent(outcome));
    out.close();
  });
  return { id: completionId(), model: persona.id, created: Math.floor(Date.now() / 1000), events: out.read() };
}

/** A stored reply as the completion's last event. */
function replyDone(reply: MessageView): CompletionEvent {
  const meta = reply.metadata as {
    usage?: ReplyUsage;
    finishReason?: string;
    error?: { code?: AppErrorCode; message?: string };
  };
  const code = meta.error?.code === 'MODEL_TIMEOUT' ? 'MODEL_TIMEOUT' : 'MODEL_ERROR';
  const message = `${meta.error?.message ?? 'The reply could not be generated.'} Your message was saved; the partial reply ${reply.id} is marked INCOMPLETE.`;
  return {
    type: 'done',
    text: reply.content,
    finishReason: meta.finishReason ?? 'stop',
    usage: meta.usage ?? { inputTokens: null, outputTokens: null, totalTokens: null },
    ...(reply.status === 'INCOMPLETE' ? { error: new AppError(code, message) } : {}),
  };
}

/** A turn's events from `first` on, as completion events. */
async function* turnCompletion(
  turn: AsyncGenerator<TurnEvent>,
  first: IteratorResult<TurnEvent>,
): AsyncGenerator<CompletionEvent> {
  for (let event = first; !event.done; event = await turn.next()) {
    const e = event.value;
    if (e.type === 'delta') yield { type: 'delta', text: e.text };
    else if (e.type === 'reply') yield replyDone(e.message);
  }
}

/**
 * With a session: the request's last user message is the turn's message, answered from the session's
 * stored history by its Durable Object like chat.sendMessage (earlier messages of the request are not
 * read: the session holds the conversation). The model must be the session's persona.
 */
async function inSession(ctx: AuthedContext, request: CompletionRequest, chatSessionId: string): Promise<Completion> {
  const state = await getSessionState(ctx.db, ctx.auth.organizationId, chatSessionId);
  if (!state) throw new AppError('NOT_FOUND', `Chat session ${chatSessionId} not found.`);
  if (state.personaId !== request.model) {
    throw new AppError(
      'BAD_REQUEST',
      `Chat session ${chatSessionId} talks to persona ${state.personaId}; send that id as the model.`,
    );
  }
  const refusal = sessionRefusal(state);
  if (refusal) throw refusal;
  assertModelConfigured(ctx.config.model);
  const content = request.messages.at(-1)?.content ?? '';
  const turn = await startTurnStream(ctx, { chatSessionId, content, role: 'USER', attachments: [] });
  // The user's message is stored (or refused, with a status) before the response starts.
  const first = await turn.next();
  const replyId = !first.done && first.value.type === 'message' ? first.value.replyId : null;
  return {
    id: replyId ?? completionId(),
    model: request.model,
    created: Math.floor(Date.now() / 1000),
    events: turnCompletion(turn, first),
  };
}

export function startCompletion(
  ctx: AuthedContext,
  request: CompletionRequest,
  chatSessionId: string | undefined,
): Promise<Completion> {
  return chatSessionId ? inSession(ctx, request, chatSessionId) : stateless(ctx, request);
}
