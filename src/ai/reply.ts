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
 * Aborts the call when no stream part arrives for `idleTimeoutMs`. One timer for the whole call,
 * not one per stream part (a clearTimeout + setTimeout per token was measurable Worker CPU, bench
 * --only=turn --profile): each part only notes the time, and the timer, when it fires, waits again
 * for whatever is left of the idle window since the last part.
 */
function idleWatch(idleTimeoutMs: number, abort: AbortController) {
  let lastPartAt = Date.now();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number) => {
    timer = setTimeout(() => {
      const idle = Date.now() - lastPartAt;
      if (idle < idleTimeoutMs) return arm(idleTimeoutMs - idle);
      timedOut = true;
      abort.abort(new Error('model idle timeout'));
    }, ms);
  };
  arm(idleTimeoutMs);
  return {
    touch: () => {
      lastPartAt = Date.now();
    },
    stop: () => {
      if (timer) clearTimeout(timer);
    },
    timedOut: () => timedOut,
  };
}

/** What a model call's stream brought, as it is read. */
type StreamState = {
  text: string;
  firstTokenAt: number | null;
  finishReason: string;
  usage: ReplyUsage;
  failure: unknown;
  aborted: boolean;
};

/** Reads the call's stream to its end into `state`, passing text on to `onDelta`. */
async function readStream(
  options: ReplyOptions,
  abort: AbortController,
  watch: ReturnType<typeof idleWatch>,
  state: StreamState,
): Promise<void> {
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
    watch.touch();
    if (part.type === 'text-delta') {
      if (state.firstTokenAt === null) state.firstTokenAt = Date.now();
      state.text += part.text;
      options.onDelta?.(part.text);
    } else if (part.type === 'finish') {
      state.finishReason = part.finishReason;
      const { inputTokens, outputTokens, totalTokens } = part.totalUsage;
      state.usage = {
        inputTokens: inputTokens ?? null,
        outputTokens: outputTokens ?? null,
        totalTokens: totalTokens ?? null,
      };
    } else if (part.type === 'error') {
      state.failure = part.error;
    } else if (part.type === 'abort') {
      state.aborted = true;
    }
  }
}

/** How the call ended: timed out, stopped, failed, cut, or complete. */
function outcomeOf(
  state: StreamState,
  base: Omit<ReplyOutcome, 'status' | 'finishReason' | 'error'>,
  ended: { timedOut: boolean; aborted: boolean; idleTimeoutMs: number },
): ReplyOutcome {
  if (ended.timedOut) {
    const seconds = Math.round(ended.idleTimeoutMs / 1000);
    const error = new AppError('MODEL_TIMEOUT', `The model did not respond within ${seconds} s.`);
    return { ...base, status: 'INCOMPLETE', finishReason: 'timeout', error };
  }
  if (state.aborted || (ended.aborted && state.failure === undefined)) {
    return { ...base, status: 'STOPPED', finishReason: 'stopped' };
  }
  if (state.failure !== undefined) {
    return { ...base, status: 'INCOMPLETE', finishReason: 'error', error: describeModelError(state.failure) };
  }
  // A stream that ended without a completion signal is not a complete reply.
  const { finishReason } = state;
  if (finishReason === 'unknown' || finishReason === 'error' || finishReason === 'interrupted') {
    const error = new AppError('MODEL_ERROR', `The reply could not be generated: ${STREAM_CUT}.`);
    return { ...base, status: 'INCOMPLETE', finishReason, error };
  }
  return { ...base, status: 'COMPLETE', finishReason };
}

/**
 * Runs one model call to the end, streaming deltas to `onDelta`, and reports what happened instead
 * of throwing: callers must store whatever arrived, complete or not.
 */
export async function generateReply(options: ReplyOptions): Promise<ReplyOutcome> {
  const started = Date.now();
  const abort = new AbortController();
  const onStop = () => abort.abort(new Error('stopped by the caller'));
  if (options.stopSignal?.aborted) onStop();
  options.stopSignal?.addEventListener('abort', onStop);
  const state: StreamState = {
    text: '',
    firstTokenAt: null,
    finishReason: 'unknown',
    usage: { inputTokens: null, outputTokens: null, totalTokens: null },
    failure: undefined,
    aborted: false,
  };
  const watch = idleWatch(options.idleTimeoutMs, abort);
  try {
    await readStream(options, abort, watch, state);
  } catch (error) {
    if (abort.signal.aborted) state.aborted = true;
    else state.failure = error;
  } finally {
    watch.stop();
    options.stopSignal?.removeEventListener('abort', onStop);
  }
  const base = {
    text: state.text,
    usage: state.usage,
    latencyMs: Date.now() - started,
    timeToFirstTokenMs: state.firstTokenAt === null ? null : state.firstTokenAt - started,
  };
  const ended = { timedOut: watch.timedOut(), aborted: abort.signal.aborted, idleTimeoutMs: options.idleTimeoutMs };
  return outcomeOf(state, base, ended);
}
