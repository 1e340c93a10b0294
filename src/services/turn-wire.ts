import { AppError, type AppErrorCode, mapKnownError } from '../errors';
import type { MessageView } from '../views/message';

/** What a streamed turn tells its client, in order. */
export type TurnEvent =
  /** The user's message, committed before the model is called; `replyId` names the coming reply. */
  | { type: 'message'; message: MessageView; replyId: string | null }
  /** Text of the reply; `offset` is how many characters came before it. */
  | { type: 'delta'; replyId: string; offset: number; text: string }
  /** The stored reply: COMPLETE, or INCOMPLETE/STOPPED with what was generated. */
  | { type: 'reply'; message: MessageView };

/** How a session object reports a refusal or failure on a stream (errors lose their class over RPC). */
export type WireError = { type: 'error'; code: AppErrorCode; message: string; retryAfter?: number };
export type WireEvent = TurnEvent | WireError;

const encoder = new TextEncoder();

/** One event as a line of JSON: streams between the Worker and the object carry bytes. */
export function encodeEvent(event: WireEvent): Uint8Array {
  return encoder.encode(`${JSON.stringify(event)}\n`);
}

/** An error as the object reports it: known failures (database outage…) mapped as the Worker would. */
export function wireError(error: unknown): WireError {
  const known = mapKnownError(error);
  if (known) {
    return {
      type: 'error',
      code: known.appCode,
      message: known.message,
      ...(known.retryAfter !== undefined ? { retryAfter: known.retryAfter } : {}),
    };
  }
  return { type: 'error', code: 'INTERNAL', message: 'The turn failed unexpectedly.' };
}

/**
 * Reads the object's event stream as turn events; an error event becomes the AppError it stood
 * for. Leaving early (return/throw from the consumer) cancels the stream, which detaches this
 * listener from the object without touching the generation.
 */
export async function* readEvents(stream: ReadableStream<Uint8Array>): AsyncGenerator<TurnEvent> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += value;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
        if (!line) continue;
        const event = JSON.parse(line) as WireEvent;
        if (event.type === 'error') {
          throw new AppError(
            event.code,
            event.message,
            event.retryAfter !== undefined ? { retryAfter: event.retryAfter } : {},
          );
        }
        yield event;
      }
    }
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
