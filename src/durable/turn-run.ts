import type { Env } from '../env';
import { log } from '../log';
import type { RegenerationTurn, TurnConfig, TurnHooks, TurnInput } from '../services/turn-types';
import { type WireEvent, wireError } from '../services/turn-wire';
import type { MessageView } from '../views/message';
import type { Listener } from './listener';
import { armRecovery, clearSavedTurn, SAVE_INTERVAL_MS, saveTurn } from './recovery';

/** A turn as the Worker hands it to the session's object. */
export type TurnRequest = {
  organizationId: string;
  /** The request that sent the message: the turn's log lines carry it. */
  requestId: string;
  config: TurnConfig;
  /** A message sent, or a reply regenerated (they queue together: a session runs one turn at a time). */
  turn: TurnInput | RegenerationTurn;
};

/** The reply a session object is generating: its text so far and everyone listening. */
export type LiveReply = {
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

/** Where a turn runs: the object's storage, its env, and its slot for the reply being generated. */
export type TurnHost = { storage: DurableObjectStorage; env: Env; setLive: (live: LiveReply | undefined) => void };

/**
 * One turn's side of the session object: it turns the turn's hooks into events for the sender and,
 * once a reply is started, for every listener of it, saves the reply's text for recovery, and
 * leaves storage as it should be when the turn ends.
 */
export class TurnRun {
  private live: LiveReply | undefined;
  private replayId = '';
  /** False while a started reply is not yet stored: its saved state must then outlive this instance. */
  private settled = true;
  private readonly stop = new AbortController();

  constructor(
    private readonly request: TurnRequest,
    private readonly sender: Listener,
    private readonly host: TurnHost,
  ) {}

  hooks(): TurnHooks {
    return {
      onReplyStarted: (replyId) => this.started(replyId),
      onStored: (message, replyId) => {
        this.replayId = replyId ?? '';
        this.sender.send({ type: 'message', message, replyId });
      },
      onDelta: (text) => this.delta(text),
      stopSignal: this.stop.signal,
    };
  }

  private started(replyId: string): void {
    this.settled = false;
    let settle: (reply: MessageView | null) => void = () => {};
    const finished = new Promise<MessageView | null>((resolve) => {
      settle = resolve;
    });
    const live: LiveReply = {
      organizationId: this.request.organizationId,
      replyId,
      text: '',
      listeners: new Set(this.sender.closed ? [] : [this.sender]),
      stop: this.stop,
      finished,
      settle,
      savedAt: Date.now(),
    };
    this.live = live;
    this.host.setLive(live);
    this.save(live);
    void armRecovery(this.host.storage);
  }

  private delta(text: string): void {
    const live = this.live;
    if (!live) {
      // An Idempotency-Key replay: only its own caller hears it.
      this.sender.send({ type: 'delta', replyId: this.replayId, offset: 0, text });
      return;
    }
    const event: WireEvent = { type: 'delta', replyId: live.replyId, offset: live.text.length, text };
    live.text += text;
    for (const listener of live.listeners) listener.send(event);
    if (Date.now() - live.savedAt >= SAVE_INTERVAL_MS) this.save(live);
  }

  /** Sends an event to every listener of the reply, or to the sender alone when there is no reply. */
  private broadcast(event: WireEvent): void {
    if (this.live) for (const listener of this.live.listeners) listener.send(event);
    else this.sender.send(event);
  }

  succeeded(reply: MessageView | null): void {
    this.settled = true;
    if (reply) this.broadcast({ type: 'reply', message: reply });
    this.live?.settle(reply);
  }

  failed(error: unknown): void {
    const event = wireError(error);
    if (event.code === 'INTERNAL') log('error', this.scope(), 'turn_failed', {}, error);
    this.broadcast(event);
    this.live?.settle(null);
  }

  /** Closes every stream; a reply that could not be stored keeps its saved text for the alarm. */
  async close(): Promise<void> {
    const live = this.live;
    if (live) {
      for (const listener of live.listeners) listener.close();
      this.host.setLive(undefined);
      if (this.settled) {
        await clearSavedTurn(this.host.storage);
      } else {
        this.save(live);
        await armRecovery(this.host.storage, 1_000);
      }
    }
    this.sender.close();
  }

  private scope() {
    return { requestId: this.request.requestId, env: this.host.env };
  }

  private save(live: LiveReply): void {
    live.savedAt = Date.now();
    const { organizationId, replyId, text } = live;
    saveTurn(this.host.storage, {
      organizationId,
      replyId,
      text,
      startedAt: live.savedAt,
      requestId: this.request.requestId,
    });
  }
}
