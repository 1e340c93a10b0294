import { getMessage } from '../db/queries/messages';
import { AppError } from '../errors';
import type { AuthedContext } from '../trpc/context';
import type { MessageView } from '../views/message';
import { messageView } from '../views/message';
import { runTurn, type SendMessageInput } from './send-message';

/** What a streamed turn tells its client, in order. */
export type TurnEvent =
  /** The user's message, committed before the model is called; `replyId` names the coming reply. */
  | { type: 'message'; message: MessageView; replyId: string | null }
  /** Text of the reply; `offset` is how many characters came before it. */
  | { type: 'delta'; replyId: string; offset: number; text: string }
  /** The stored reply: COMPLETE, or INCOMPLETE/STOPPED with what was generated. */
  | { type: 'reply'; message: MessageView };

/** A single-consumer queue between the generator and whoever is listening. */
class EventQueue<T> {
  private items: T[] = [];
  private waiting: (() => void) | undefined;
  private ended = false;
  private failure: unknown;
  private detached = false;

  push(item: T): void {
    if (this.ended || this.detached) return;
    this.items.push(item);
    this.wake();
  }
  end(failure?: unknown): void {
    this.ended = true;
    this.failure = failure;
    this.wake();
  }
  /** The listener left: stop buffering, the producer carries on. */
  detach(): void {
    this.detached = true;
    this.items = [];
  }
  private wake(): void {
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      while (true) {
        const item = this.items.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (this.ended) {
          if (this.failure !== undefined) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => {
          this.waiting = resolve;
        });
      }
    } finally {
      this.detach();
    }
  }
}

/**
 * Starts a turn whose events can be streamed. The generation is not tied to the listener: it runs
 * under `waitUntil` and stores the reply when it finishes even if the client has gone (Workers keep
 * such work alive for up to 30 s after the response ends). Errors before the user's message is
 * stored (unknown session, archived, bad attachment) end the stream with that error.
 */
export function startTurnStream(ctx: AuthedContext, input: SendMessageInput, stopSignal?: AbortSignal) {
  const queue = new EventQueue<TurnEvent>();
  let replyId: string | null = null;
  let offset = 0;
  const done = runTurn(ctx, input, {
    onStored: (message, id) => {
      replyId = id;
      queue.push({ type: 'message', message, replyId: id });
    },
    onDelta: (text) => {
      if (!replyId) return;
      queue.push({ type: 'delta', replyId, offset, text });
      offset += text.length;
    },
    ...(stopSignal ? { stopSignal } : {}),
  }).then(
    (turn) => {
      if (turn.reply) queue.push({ type: 'reply', message: turn.reply });
      queue.end();
    },
    (error: unknown) => queue.end(error),
  );
  ctx.waitUntil(done);
  return queue;
}

const POLL_MS = 250;
/** A reply with no progress save for this long has lost its generator. */
const STALE_MS = 15_000;
/** How long one resume may follow a reply. */
const FOLLOW_MAX_MS = 5 * 60_000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Follows a reply from `fromOffset` by reading its stored progress: what a client that lost its
 * connection uses to re-attach to a reply still being generated (possibly in another isolate), or
 * to fetch it once finished. Nothing is generated again.
 */
export async function* followReply(
  ctx: AuthedContext,
  replyId: string,
  fromOffset: number,
  signal?: AbortSignal,
): AsyncGenerator<TurnEvent> {
  let sent = fromOffset;
  const deadline = Date.now() + FOLLOW_MAX_MS;
  while (!signal?.aborted && Date.now() < deadline) {
    const row = await getMessage(ctx.db, ctx.auth.organizationId, replyId);
    if (row?.role !== 'ASSISTANT') throw new AppError('NOT_FOUND', `Reply ${replyId} not found.`);
    if (row.content.length > sent) {
      yield { type: 'delta', replyId, offset: sent, text: row.content.slice(sent) };
      sent = row.content.length;
    }
    const stale = Date.now() - new Date(row.updatedAt).getTime() > STALE_MS;
    if (row.status !== 'STREAMING' || stale) {
      const message = messageView(row);
      yield {
        type: 'reply',
        message: stale && row.status === 'STREAMING' ? { ...message, status: 'INCOMPLETE' } : message,
      };
      return;
    }
    await sleep(POLL_MS, signal);
  }
}
