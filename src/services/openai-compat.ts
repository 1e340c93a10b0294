import { z } from 'zod';
import { assertModelConfigured } from '../ai/model';
import { buildPrompt, type HistoryMessage } from '../ai/prompt';
import { generateReply, type ReplyUsage } from '../ai/reply';
import { getPersona } from '../db/queries/personas';
import { getSessionState } from '../db/queries/sessions';
import { addCallTokens, claimModelCall } from '../db/queries/usage';
import { intSetting } from '../env';
import { AppError, type AppErrorCode } from '../errors';
import { newId } from '../ids';
import { describeError } from '../log';
import type { AuthedContext } from '../trpc/context';
import { describeIssues } from '../validation';
import {
  DEFAULT_CONTEXT_TOKENS,
  DEFAULT_DAILY_MODEL_CALLS,
  secondsUntilUtcMidnight,
  sessionRefusal,
} from './send-message';
import { startTurnStream } from './session-object';

/**
 * The OpenAI Chat Completions request, as far as a persona can honour it. The model is a persona id;
 * the persona's own model and settings answer (sampling parameters of the request are ignored). Fields
 * this API does not know are ignored, as OpenAI-compatible servers do; tools and n > 1 are refused.
 */
const MAX_CONTENT_CHARS = 100_000;
const textPart = z.object({ type: z.literal('text'), text: z.string().max(MAX_CONTENT_CHARS) }).loose();
const content = z.union([
  z.string().max(MAX_CONTENT_CHARS),
  z
    .array(z.union([textPart, z.object({ type: z.string().max(50) }).loose()]))
    .max(100)
    .transform((parts, ctx) => {
      const other = parts.find((p) => p.type !== 'text');
      if (other) {
        ctx.addIssue({ code: 'custom', message: `content parts of type "${other.type}" are not supported; send text` });
        return z.NEVER;
      }
      return parts.map((p) => (p as z.infer<typeof textPart>).text).join('');
    }),
]);
export const completionRequest = z
  .object({
    model: z.string().min(1).max(100),
    messages: z
      .array(
        z
          .object({
            role: z.enum(['system', 'developer', 'user', 'assistant']),
            content: content.nullish(),
          })
          .loose(),
      )
      .min(1)
      .max(1_000),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().nullish() }).loose().nullish(),
    n: z.literal(1).nullish(),
    tools: z.array(z.unknown()).max(0, 'tools are not supported').nullish(),
  })
  .loose();
export type CompletionRequest = z.infer<typeof completionRequest>;

export function parseCompletionRequest(body: unknown): CompletionRequest {
  const parsed = completionRequest.safeParse(body);
  if (!parsed.success) throw new AppError('BAD_REQUEST', describeIssues(parsed.error));
  const last = parsed.data.messages.at(-1);
  if (last?.role !== 'user') throw new AppError('BAD_REQUEST', 'The last message must be a user message.');
  return parsed.data;
}

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
  assertModelConfigured(ctx.env);
  const systemTexts: string[] = [];
  const history: HistoryMessage[] = [];
  request.messages.forEach((m, i) => {
    const text = m.content ?? '';
    if (m.role === 'system' || m.role === 'developer') systemTexts.push(text);
    else {
      history.push({
        id: `request-${i}`,
        role: m.role === 'user' ? 'USER' : 'ASSISTANT',
        content: text,
        status: 'COMPLETE',
        attachments: [],
      });
    }
  });
  const instructions = [persona.instructions.trim(), ...systemTexts.map((t) => t.trim())].filter(Boolean).join('\n\n');

  const quota = await claimModelCall(
    ctx.db,
    org,
    persona.id,
    intSetting(ctx.env.DAILY_MODEL_CALL_CAP, DEFAULT_DAILY_MODEL_CALLS),
  );
  if (!quota.allowed) {
    throw new AppError(
      'RATE_LIMITED',
      `This organization has used its ${quota.cap} model calls for today (UTC); the count resets at midnight UTC.`,
      { retryAfter: secondsUntilUtcMidnight() },
    );
  }
  const prompt = buildPrompt(
    { name: persona.name, instructions },
    history,
    intSetting(ctx.env.CONTEXT_TOKEN_BUDGET, DEFAULT_CONTEXT_TOKENS),
  );
  const out = channel<CompletionEvent>();
  void generateReply({
    model: ctx.services.resolveModel(persona),
    prompt,
    settings: { temperature: persona.temperature, maxOutputTokens: persona.maxOutputTokens },
    idleTimeoutMs: intSetting(ctx.env.MODEL_TIMEOUT_MS, 60_000),
    maxRetries: intSetting(ctx.env.MODEL_MAX_RETRIES, 2),
    // Nothing is stored: a client that leaves stops the model call.
    stopSignal: ctx.signal,
    onDelta: (text) => out.push({ type: 'delta', text }),
  }).then((outcome) => {
    // Usage (issue 19): the call was counted with the quota; its tokens once they are known.
    if (outcome.usage.inputTokens || outcome.usage.outputTokens) {
      ctx.waitUntil(
        addCallTokens(ctx.db, org, persona.id, outcome.usage).catch((error: unknown) =>
          console.warn("could not count a stateless call's tokens", describeError(error)),
        ),
      );
    }
    out.push({
      type: 'done',
      text: outcome.text,
      finishReason: outcome.finishReason,
      usage: outcome.usage,
      ...(outcome.error ? { error: outcome.error } : {}),
    });
    out.close();
  });
  return {
    id: `chatcmpl-${newId('message').replace(/^[a-z]+_/, '')}`,
    model: persona.id,
    created: Math.floor(Date.now() / 1000),
    events: out.read(),
  };
}

/**
 * With a session: the request's last user message is the turn's message, answered from the session's
 * stored history by its Durable Object like chat.sendMessage (earlier messages of the request are not
 * read: the session holds the conversation). The model must be the session's persona.
 */
async function inSession(ctx: AuthedContext, request: CompletionRequest, chatSessionId: string): Promise<Completion> {
  const org = ctx.auth.organizationId;
  const state = await getSessionState(ctx.db, org, chatSessionId);
  if (!state) throw new AppError('NOT_FOUND', `Chat session ${chatSessionId} not found.`);
  if (state.personaId !== request.model) {
    throw new AppError(
      'BAD_REQUEST',
      `Chat session ${chatSessionId} talks to persona ${state.personaId}; send that id as the model.`,
    );
  }
  const refusal = sessionRefusal(state);
  if (refusal) throw refusal;
  assertModelConfigured(ctx.env);
  const content = request.messages.at(-1)?.content ?? '';
  const turn = await startTurnStream(ctx, { chatSessionId, content, role: 'USER', attachments: [] });
  let replyId: string | null = null;
  // The user's message is stored (or refused, with a status) before the response starts.
  const first = await turn.next();
  if (!first.done && first.value.type === 'message') replyId = first.value.replyId;
  async function* events(): AsyncGenerator<CompletionEvent> {
    let event = first;
    while (!event.done) {
      const e = event.value;
      if (e.type === 'delta') yield { type: 'delta', text: e.text };
      else if (e.type === 'reply') {
        const meta = e.message.metadata as {
          usage?: ReplyUsage;
          finishReason?: string;
          error?: { code?: AppErrorCode; message?: string };
        };
        const failed = e.message.status === 'INCOMPLETE';
        const code = meta.error?.code === 'MODEL_TIMEOUT' ? 'MODEL_TIMEOUT' : 'MODEL_ERROR';
        yield {
          type: 'done',
          text: e.message.content,
          finishReason: meta.finishReason ?? 'stop',
          usage: meta.usage ?? { inputTokens: null, outputTokens: null, totalTokens: null },
          ...(failed
            ? {
                error: new AppError(
                  code,
                  `${meta.error?.message ?? 'The reply could not be generated.'} Your message was saved; the partial reply ${e.message.id} is marked INCOMPLETE.`,
                ),
              }
            : {}),
        };
      }
      event = await turn.next();
    }
  }
  return {
    id: replyId ?? `chatcmpl-${newId('message').replace(/^[a-z]+_/, '')}`,
    model: request.model,
    created: Math.floor(Date.now() / 1000),
    events: events(),
  };
}

export function startCompletion(
  ctx: AuthedContext,
  request: CompletionRequest,
  chatSessionId: string | undefined,
): Promise<Completion> {
  return chatSessionId ? inSession(ctx, request, chatSessionId) : stateless(ctx, request);
}

/** OpenAI's finish_reason for the AI SDK's. */
export function finishReason(reason: string): 'stop' | 'length' | 'content_filter' {
  if (reason === 'length') return 'length';
  if (reason === 'content-filter') return 'content_filter';
  return 'stop';
}

export function usageOf(usage: ReplyUsage) {
  const prompt = usage.inputTokens ?? 0;
  const completion = usage.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.totalTokens ?? prompt + completion,
  };
}

/** The error body OpenAI clients parse: `{error:{message,type,code,param}}`. */
export function openAiErrorBody(error: AppError) {
  const type =
    error.status === 401
      ? 'authentication_error'
      : error.status === 403
        ? 'permission_error'
        : error.status === 429
          ? 'rate_limit_error'
          : error.status >= 500
            ? 'server_error'
            : 'invalid_request_error';
  const code =
    error.appCode === 'NOT_FOUND' && error.message.startsWith('The model')
      ? 'model_not_found'
      : error.status === 401
        ? 'invalid_api_key'
        : error.appCode.toLowerCase();
  return { error: { message: error.message, type, code, param: null } };
}
