import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { authenticateBearerRequest } from '../auth/authenticate';
import type { AuthedContext } from '../context';
import { getPersona, listPersonas } from '../db/queries/personas';
import { AppError, errorResponse, logFailure, openAiErrorBody, toAppError } from '../errors';
import type { HonoEnv } from '../hono-env';
import { requestContext } from '../request-context';
import {
  type Completion,
  type CompletionEvent,
  finishReason,
  parseCompletionRequest,
  startCompletion,
  usageOf,
} from '../services/openai-compat';

/**
 * The OpenAI-compatible surface, so any OpenAI SDK or tool talks to a persona: point its base URL at
 * `<worker>/v1` and use an API key of ours as its key. The organization is the key's own.
 *   GET  /v1/models             the organization's personas, as models (id = persona id)
 *   GET  /v1/models/:id         one persona as a model
 *   POST /v1/chat/completions   streaming (SSE chat.completion.chunk … [DONE]) or not
 * Errors are OpenAI's shape ({error:{message,type,code,param,request_id}}) with this API's statuses.
 */
export const openAiRoutes = new Hono<HonoEnv>();

/** Largest /v1/models answer: personas are few per organization; more than this is cut (newest first). */
const MAX_MODELS = 1_000;
const SESSION_HEADER = 'x-chat-session-id';

function errorJson(c: Context<HonoEnv>, error: unknown): Response {
  return errorResponse(c, error, openAiErrorBody);
}

openAiRoutes.onError((error, c) => errorJson(c, error));

openAiRoutes.use('*', (c, next) => {
  const maxSize = c.var.config.limits.maxBodyBytes;
  return bodyLimit({
    maxSize,
    onError: (c) => errorJson(c, new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${maxSize} bytes.`)),
  })(c, next);
});

async function authed(c: Context<HonoEnv>): Promise<AuthedContext> {
  const ctx = requestContext(c);
  return { ...ctx, auth: await authenticateBearerRequest(ctx) };
}

function modelObject(p: { id: string; createdAt: Date }, organizationId: string) {
  return {
    id: p.id,
    object: 'model' as const,
    created: Math.floor(p.createdAt.getTime() / 1000),
    owned_by: organizationId,
  };
}

openAiRoutes.get('/models', async (c) => {
  const ctx = await authed(c);
  const org = ctx.auth.organizationId;
  const personas = await listPersonas(ctx.db, org, { limit: MAX_MODELS });
  return c.json({ object: 'list', data: personas.map((p) => modelObject(p, org)) });
});

openAiRoutes.get('/models/:id', async (c) => {
  const ctx = await authed(c);
  const id = c.req.param('id');
  const persona = id.length <= 100 ? await getPersona(ctx.db, ctx.auth.organizationId, id) : undefined;
  if (!persona) throw new AppError('NOT_FOUND', `The model '${id.slice(0, 100)}' does not exist.`);
  return c.json(modelObject(persona, ctx.auth.organizationId));
});

function chunk(completion: Completion, delta: Record<string, unknown>, finish: string | null) {
  return {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
}

/** The whole reply as one chat.completion, once it is done. */
async function completionJson(completion: Completion) {
  let done: Extract<CompletionEvent, { type: 'done' }> | undefined;
  for await (const event of completion.events) if (event.type === 'done') done = event;
  if (!done) throw new AppError('INTERNAL', 'The reply ended without a result.');
  if (done.error) throw done.error;
  return {
    id: completion.id,
    object: 'chat.completion',
    created: completion.created,
    model: completion.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: done.text, refusal: null },
        logprobs: null,
        finish_reason: finishReason(done.finishReason),
      },
    ],
    usage: usageOf(done.usage),
  };
}

/** The reply as chat.completion.chunk events, then [DONE]; a failure after the headers is an error event. */
async function streamCompletion(
  c: Context<HonoEnv>,
  ctx: AuthedContext,
  completion: Completion,
  options: { includeUsage: boolean; headers: Record<string, string> },
) {
  // The first event is awaited before the headers: a model that fails before its first token gets a status.
  const first = await completion.events.next();
  if (!first.done && first.value.type === 'done' && first.value.error && first.value.text === '') {
    throw first.value.error;
  }
  for (const [name, value] of Object.entries(options.headers)) c.header(name, value);
  const requestId = ctx.requestId;
  return streamSSE(c, async (stream) => {
    const send = (data: unknown) => stream.writeSSE({ data: JSON.stringify(data) });
    await send(chunk(completion, { role: 'assistant', content: '' }, null));
    const handle = async (event: CompletionEvent) => {
      if (event.type === 'delta') {
        await send(chunk(completion, { content: event.text }, null));
        return;
      }
      if (event.error) {
        // Headers are sent: the failure is told in the stream, as OpenAI does (its clients throw on it).
        await send(openAiErrorBody(event.error, requestId));
        return;
      }
      await send(chunk(completion, {}, finishReason(event.finishReason)));
      if (options.includeUsage) {
        await send({ ...chunk(completion, {}, null), choices: [], usage: usageOf(event.usage) });
      }
      await stream.writeSSE({ data: '[DONE]' });
    };
    try {
      if (!first.done) await handle(first.value);
      for await (const event of completion.events) await handle(event);
    } catch (error) {
      const appError = toAppError(error);
      logFailure({ requestId, env: ctx.env }, 'POST /v1/chat/completions (stream)', appError, error);
      await send(openAiErrorBody(appError, requestId));
    }
  });
}

openAiRoutes.post('/chat/completions', async (c) => {
  const ctx = await authed(c);
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new AppError('BAD_REQUEST', 'Body must be JSON.');
  }
  const request = parseCompletionRequest(body);
  const sessionId = c.req.header(SESSION_HEADER)?.trim() || undefined;
  if (sessionId !== undefined && sessionId.length > 100) {
    throw new AppError('BAD_REQUEST', 'X-Chat-Session-ID is longer than 100 characters.');
  }
  const completion = await startCompletion(ctx, request, sessionId);
  const headers: Record<string, string> = sessionId ? { 'x-chat-session-id': sessionId } : {};
  if (!request.stream) return c.json(await completionJson(completion), 200, headers);
  return streamCompletion(c, ctx, completion, {
    includeUsage: request.stream_options?.include_usage === true,
    headers,
  });
});
