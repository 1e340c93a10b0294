import { DurableObject } from 'cloudflare:workers';
import { createDb } from '../db/client';
import type { IdempotencyClaim } from '../db/queries/idempotency';
import { closeOrphanedReply } from '../db/queries/messages';
import type { Env } from '../env';
import { AppError, sqlStateOf } from '../errors';
import { createServices } from '../services';
import { executeTurn, type SendMessageInput } from '../services/send-message';
import type { TurnCache } from '../services/turn-cache';
import { encodeEvent, type WireEvent, wireError } from '../services/turn-wire';
import type { MessageView } from '../views/message';

/**
 * Settings a turn reads, passed by the Worker that took the request. In production they equal the
 * object's own env; passing them keeps a deployment's (or a test's) per-request settings in force.
 */
export type TurnSettings = Pick<
  Env,
  | 'OPENAI_API_KEY'
  | 'OPENAI_BASE_URL'
  | 'OPENAI_API_STYLE'
  | 'DEFAULT_MODEL'
  | 'MODEL_TIMEOUT_MS'
  | 'MODEL_MAX_RETRIES'
  | 'CONTEXT_TOKEN_BUDGET'
  | 'DAILY_MODEL_CALL_CAP'
>;

export type TurnRequest = {
  organizationId: string;
  input: SendMessageInput;
  claim: IdempotencyClaim | undefined;
  messageId: string;
  replyId: string | undefined;
  settings: TurnSettings;
};

/** A reply being generated, as the object's storage keeps it in case the object dies mid-turn. */
type SavedTurn = { organizationId: string; replyId: string; text: string; startedAt: number };

/**
 * Sends queued behind the running one; more are refused (429) rather than piling up. Each waiting
 * send holds its message and extracted attachment text (bounded by the attachment limits) here.
 */
export const MAX_WAITING_TURNS = 32;
/** How often the text of a reply being generated is saved to the object's storage (not Postgres). */
const SAVE_INTERVAL_MS = 1_000;
/** The alarm that closes a turn whose object died; re-armed while the turn is alive. */
const RECOVERY_ALARM_MS = 30_000;
const TURN_KEY = 'turn';

/** An error for the log: its kind and SQLSTATE only, never its message (which can carry message text). */
function errorKind(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const state = sqlStateOf(error);
  return state ? `${error.name} (SQLSTATE ${state})` : error.name;
}

/** One reader of the object's events: an RPC stream of JSON lines. */
class Listener {
  readonly stream: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  closed = false;

  constructor(onCancel: (listener: Listener) => void) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        // The client left: stop writing to it; the generation carries on.
        this.closed = true;
        onCancel(this);
      },
    });
  }

  /** Characters of the reply this listener already has (it resumed from there): not sent again. */
  skipTo = 0;

  send(event: WireEvent): void {
    if (this.closed) return;
    if (event.type === 'delta' && event.offset < this.skipTo) {
      const skip = this.skipTo - event.offset;
      if (skip >= event.text.length) return;
      event = { ...event, offset: this.skipTo, text: event.text.slice(skip) };
    }
    try {
      this.controller?.enqueue(encodeEvent(event));
    } catch {
      this.closed = true;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.controller?.close();
    } catch {
      // already errored or cancelled
    }
  }
}

type LiveReply = {
  organizationId: string;
  replyId: string;
  text: string;
  listeners: Set<Listener>;
  stop: AbortController;
  /** Settles with the stored reply once the turn has written it (null when it could not be). */
  finished: Promise<MessageView | null>;
  settle: (reply: MessageView | null) => void;
  savedAt: number;
};

/**
 * One chat session's turns (addressed by `${organizationId}:${sessionId}`). It takes sends in
 * arrival order, runs each turn to the end whether or not anyone is listening, fans the deltas
 * out to every attached listener, and answers stop requests at once. Postgres sees two statements
 * per turn (store the message, store the reply); progress lives here, in memory and in the
 * object's own SQLite storage, from which an alarm closes a turn the object did not live to finish.
 */
export class ChatSession extends DurableObject<Env> {
  private queue: Promise<void> = Promise.resolve();
  private waiting = 0;
  private live: LiveReply | undefined;
  /** The last turn's persona and history, so a warm session's next model call need not wait (turn-cache.ts). */
  private cache: TurnCache | undefined;
  private cacheSettings = '';
  /** Bumped by forgetHistory: a turn that started before may not remember its (stale) history. */
  private historyEpoch = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // A new instance never has a turn running: a saved one was left by an instance that died.
    ctx.blockConcurrencyWhile(() => this.recover());
  }

  /** Queues a turn; returns its event stream at once (events start when the turn's time comes). */
  async turn(request: TurnRequest): Promise<ReadableStream<Uint8Array>> {
    const sender = new Listener((l) => this.live?.listeners.delete(l));
    if (this.waiting >= MAX_WAITING_TURNS) {
      sender.send(
        wireError(
          new AppError('RATE_LIMITED', `${MAX_WAITING_TURNS} messages are already waiting on this session.`, {
            retryAfter: 5,
          }),
        ),
      );
      sender.close();
      return sender.stream;
    }
    this.waiting++;
    // A turn never rejects the queue: the next one runs whatever happened to this one.
    this.queue = this.queue
      .then(() => this.runTurn(request, sender))
      .catch((error: unknown) => console.error('turn failed', errorKind(error)))
      .finally(() => {
        this.waiting--;
      });
    return sender.stream;
  }

  /** Attaches a listener to the reply being generated, from character `from`; null when there is none. */
  async listen(
    organizationId: string,
    replyId: string | null,
    from: number,
  ): Promise<ReadableStream<Uint8Array> | null> {
    const live = this.live;
    if (!live || live.organizationId !== organizationId || (replyId !== null && live.replyId !== replyId)) return null;
    const listener = new Listener((l) => live.listeners.delete(l));
    if (live.text.length > from) {
      listener.send({ type: 'delta', replyId: live.replyId, offset: from, text: live.text.slice(from) });
    }
    listener.skipTo = Math.max(from, live.text.length);
    live.listeners.add(listener);
    return listener.stream;
  }

  /**
   * Stops the reply being generated (`replyId`, or whichever when null); resolves once it is stored (STOPPED, with its text).
   * `known: false` when this object is not generating it.
   */
  async stop(organizationId: string, replyId: string | null): Promise<{ known: boolean; reply: MessageView | null }> {
    const live = this.live;
    if (!live || live.organizationId !== organizationId || (replyId !== null && live.replyId !== replyId)) {
      return { known: false, reply: null };
    }
    live.stop.abort();
    return { known: true, reply: await live.finished };
  }

  /**
   * Drops the memory of the last turn's history (chat.deleteMessage changed it), so the next turn's
   * early model call cannot send a deleted message to the provider, even to be discarded.
   */
  async forgetHistory(): Promise<void> {
    this.cache = undefined;
    // A turn running now read its history before the deletion: what it would remember is stale too.
    this.historyEpoch++;
  }

  /** Whether this object is generating `replyId` now (the cron sweeper asks before closing). */
  async isGenerating(organizationId: string, replyId: string): Promise<boolean> {
    return this.live?.organizationId === organizationId && this.live.replyId === replyId;
  }

  override async alarm(): Promise<void> {
    if (this.live) {
      await this.ctx.storage.setAlarm(Date.now() + RECOVERY_ALARM_MS);
      return;
    }
    await this.recover();
  }

  /** Closes a turn saved by an instance that died: INCOMPLETE, with the text it had saved. */
  private async recover(): Promise<void> {
    const saved = await this.ctx.storage.get<SavedTurn>(TURN_KEY);
    if (!saved || this.live) return;
    try {
      await closeOrphanedReply(createDb(this.env), saved.organizationId, saved.replyId, saved.text);
      await this.ctx.storage.delete(TURN_KEY);
    } catch (error) {
      // The database is out of reach: the alarm tries again; the cron sweeper is the backstop.
      console.warn('could not close an orphaned reply', { replyId: saved.replyId, error: errorKind(error) });
      await this.ctx.storage.setAlarm(Date.now() + RECOVERY_ALARM_MS);
    }
  }

  private async runTurn(request: TurnRequest, sender: Listener): Promise<void> {
    const env = { ...this.env, ...request.settings };
    const stop = new AbortController();
    let live: LiveReply | undefined;
    let replayId = '';
    /** False while a started reply is not yet stored: its saved state must then outlive this instance. */
    let settled = true;
    const epoch = this.historyEpoch;
    try {
      const result = await executeTurn(
        {
          db: createDb(this.env),
          env,
          organizationId: request.organizationId,
          resolveModel: createServices(env).resolveModel,
          // Settings from the request shape the prompt; a cache made under other settings is not used.
          cache: this.cache && this.cacheSettings === JSON.stringify(request.settings) ? this.cache : undefined,
          remember: (cache) => {
            if (this.historyEpoch !== epoch) return;
            this.cache = cache;
            this.cacheSettings = JSON.stringify(request.settings);
          },
        },
        request.input,
        request.claim,
        { messageId: request.messageId, replyId: request.replyId },
        {
          onReplyStarted: (replyId) => {
            settled = false;
            let settle: (reply: MessageView | null) => void = () => {};
            const finished = new Promise<MessageView | null>((resolve) => {
              settle = resolve;
            });
            live = {
              organizationId: request.organizationId,
              replyId,
              text: '',
              listeners: new Set(sender.closed ? [] : [sender]),
              stop,
              finished,
              settle,
              savedAt: Date.now(),
            };
            this.live = live;
            this.save(live);
            void this.ctx.storage.setAlarm(Date.now() + RECOVERY_ALARM_MS);
          },
          onStored: (message, replyId) => {
            replayId = replyId ?? '';
            sender.send({ type: 'message', message, replyId });
          },
          onDelta: (text) => {
            if (!live) {
              // An Idempotency-Key replay: only its own caller hears it.
              sender.send({ type: 'delta', replyId: replayId, offset: 0, text });
              return;
            }
            const event: WireEvent = { type: 'delta', replyId: live.replyId, offset: live.text.length, text };
            live.text += text;
            for (const listener of live.listeners) listener.send(event);
            if (Date.now() - live.savedAt >= SAVE_INTERVAL_MS) this.save(live);
          },
          stopSignal: stop.signal,
        },
      );
      settled = true;
      if (result.reply) {
        const event: WireEvent = { type: 'reply', message: result.reply };
        if (live) for (const listener of live.listeners) listener.send(event);
        else sender.send(event);
      }
      live?.settle(result.reply);
    } catch (error) {
      const event = wireError(error);
      if (event.code === 'INTERNAL') console.error('turn failed', errorKind(error));
      if (live) for (const listener of live.listeners) listener.send(event);
      else sender.send(event);
      live?.settle(null);
    } finally {
      if (live) {
        for (const listener of live.listeners) listener.close();
        this.live = undefined;
        if (settled) {
          await this.ctx.storage.delete(TURN_KEY);
          await this.ctx.storage.deleteAlarm();
        } else {
          // The reply could not be stored: the saved text stays for the alarm to close it with.
          this.save(live);
          await this.ctx.storage.setAlarm(Date.now() + 1_000);
        }
      }
      sender.close();
    }
  }

  private save(live: LiveReply): void {
    live.savedAt = Date.now();
    const saved: SavedTurn = {
      organizationId: live.organizationId,
      replyId: live.replyId,
      text: live.text,
      startedAt: live.savedAt,
    };
    void this.ctx.storage.put(TURN_KEY, saved);
  }
}
