import { APICallError, RetryError, streamText } from 'ai';
import { AppError } from '../errors';
import type { ResolvedModel } from './model';
import type { BuiltPrompt } from './prompt';

export type ModelSettings = { temperature: number | null; maxOutputTokens: number | null };

export type ReplyUsage = { inputTokens: number | null; outputTokens: number | null; totalTokens: number | null };

export type ReplyOutcome = {
  text: string;
  /** COMPLETE, or what a cut reply is stored as. */
  status: 'COMPLETE' | 'INCOMPLETE' | 'STOPPED';
  finishReason: string;
  usage: ReplyUsage;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  /** Set when the model failed; what arrived before the failure is in `text`. */
  error?: AppError;
};

export type ReplyOptions = {
  model: ResolvedModel;
  prompt: BuiltPrompt;
  settings: ModelSettings;
  /** Abandon the call when no chunk arrives for this long (first chunk included). */
  idleTimeoutMs: number;
  /** Retries of the initial request (429, 5xx, network) before any token arrives. */
  maxRetries: number;
  /** Stops generation; what arrived is kept and marked STOPPED. */
  stopSignal?: AbortSignal;
  onDelta?: (delta: string) => void;
};

const STREAM_CUT = 'the model stream ended before it finished';

function describeModelError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (RetryError.isInstance(error)) {
    const described = describeModelError(error.lastError);
    return new AppError(
      described.appCode,
      described.message.replace(/\.$/, ` (after ${error.errors.length} attempts).`),
      { cause: error },
    );
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    // A 2xx here means the provider accepted the call and its stream then broke off mid-reply.
    const detail =
      status !== undefined && status >= 200 && status < 300
        ? STREAM_CUT
        : status === 429
          ? 'the model provider is rate limiting requests (HTTP 429)'
          : status !== undefined
            ? `the model provider answered HTTP ${status}`
            : 'the model provider could not be reached';
    return new AppError('MODEL_ERROR', `The reply could not be generated: ${detail}.`, { cause: error });
  }
  return new AppError('MODEL_ERROR', 'The reply could not be generated: the model stream failed.', {
    cause: error,
  });
}

/**
 * Runs one model call to the end, streaming deltas to `onDelta`, and reports what happened instead
 * of throwing: callers must store whatever arrived, complete or not.
 */
export async function generateReply(options: ReplyOptions): Promise<ReplyOutcome> {
  const started = Date.now();
  const abort = new AbortController();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // One timer for the whole call, not one per stream part (a clearTimeout + setTimeout per token was
  // measurable Worker CPU, bench --only=turn --profile): each part only notes the time, and the timer,
  // when it fires, waits again for whatever is left of the idle window since the last part.
  let lastPartAt = Date.now();
  const armTimer = (ms: number) => {
    timer = setTimeout(() => {
      const idle = Date.now() - lastPartAt;
      if (idle < options.idleTimeoutMs) return armTimer(options.idleTimeoutMs - idle);
      timedOut = true;
      abort.abort(new Error('model idle timeout'));
    }, ms);
  };
  const onStop = () => abort.abort(new Error('stopped by the caller'));
  if (options.stopSignal?.aborted) onStop();
  options.stopSignal?.addEventListener('abort', onStop);

  let text = '';
  let firstTokenAt: number | null = null;
  let finishReason = 'unknown';
  let usage: ReplyUsage = { inputTokens: null, outputTokens: null, totalTokens: null };
  let failure: unknown;
  let aborted = false;

  armTimer(options.idleTimeoutMs);
  try {
    const result = streamText({
      model: options.model.model,
      instructions: options.prompt.instructions,
      messages: options.prompt.messages,
      ...(options.settings.temperature !== null ? { temperature: options.settings.temperature } : {}),
      ...(options.settings.maxOutputTokens !== null ? { maxOutputTokens: options.settings.maxOutputTokens } : {}),
      maxRetries: options.maxRetries,
      abortSignal: abort.signal,
      // Errors arrive as stream parts below; the default handler would log them a second time.
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      lastPartAt = Date.now();
      if (part.type === 'text-delta') {
        if (firstTokenAt === null) firstTokenAt = Date.now();
        text += part.text;
        options.onDelta?.(part.text);
      } else if (part.type === 'finish') {
        finishReason = part.finishReason;
        usage = {
          inputTokens: part.totalUsage.inputTokens ?? null,
          outputTokens: part.totalUsage.outputTokens ?? null,
          totalTokens: part.totalUsage.totalTokens ?? null,
        };
      } else if (part.type === 'error') {
        failure = part.error;
      } else if (part.type === 'abort') {
        aborted = true;
      }
    }
  } catch (error) {
    if (abort.signal.aborted) aborted = true;
    else failure = error;
  } finally {
    if (timer) clearTimeout(timer);
    options.stopSignal?.removeEventListener('abort', onStop);
  }

  const base = {
    text,
    usage,
    latencyMs: Date.now() - started,
    timeToFirstTokenMs: firstTokenAt === null ? null : firstTokenAt - started,
  };
  if (timedOut) {
    return {
      ...base,
      status: 'INCOMPLETE',
      finishReason: 'timeout',
      error: new AppError(
        'MODEL_TIMEOUT',
        `The model did not respond within ${Math.round(options.idleTimeoutMs / 1000)} s.`,
      ),
    };
  }
  if (aborted || (abort.signal.aborted && failure === undefined)) {
    return { ...base, status: 'STOPPED', finishReason: 'stopped' };
  }
  if (failure !== undefined) {
    return { ...base, status: 'INCOMPLETE', finishReason: 'error', error: describeModelError(failure) };
  }
  // A stream that ended without a completion signal is not a complete reply.
  if (finishReason === 'unknown' || finishReason === 'error' || finishReason === 'interrupted') {
    return {
      ...base,
      status: 'INCOMPLETE',
      finishReason,
      error: new AppError('MODEL_ERROR', `The reply could not be generated: ${STREAM_CUT}.`),
    };
  }
  return { ...base, status: 'COMPLETE', finishReason };
}
