import { DurableObject } from 'cloudflare:workers';
import { resolveModel } from '../ai/model';
import { createDb } from '../db/client';
import type { Env } from '../env';
import { AppError } from '../errors';
import { log } from '../log';
import { executeEdit } from '../services/edit-turn';
import { executeRegeneration } from '../services/regenerate-turn';
import { executeTurn } from '../services/send-message';
import type { TurnCache } from '../services/turn-cache';
import type { TurnDeps } from '../services/turn-types';
import { wireError } from '../services/turn-wire';
import type { MessageView } from '../views/message';
import { kickOutbox } from '../webhooks/dispatch';
import { attachmentIndexPort } from './attachment-index-port';
import { IndexWaiters } from './index-waiters';
import { Listener } from './listener';
import { armRecovery, closeSavedTurn, RECOVERY_ALARM_MS } from './recovery';
import { type LiveReply, type TurnRequest, TurnRun } from './turn-run';

export type { TurnRequest } from './turn-run';

/**
 * Sends queued behind the running one; more are refused (429) rather than piling up. Each waiting
 * send holds its message and extracted attachment text (bounded by the attachment limits) here.
 */
export const MAX_WAITING_TURNS = 32;

/**
 * One chat session's turns (addressed by `${organizationId}:${sessionId}`). It takes sends in
 * arrival order, runs each turn to the end whether or not anyone is listening, fans the deltas
 * out to every attached listener (turn-run.ts), and answers stop requests at once. Postgres sees
 * two statements per turn (store the message, store the reply); progress lives here, in memory and
 * in the object's own SQLite storage, from which an alarm closes a turn the object did not live to
 * finish (recovery.ts).
 */
export class ChatSession extends DurableObject<Env> {
  private queue: Promise<void> = Promise.resolve();
  private waiting = 0;
  private live: LiveReply | undefined;
  /** The last turn's persona and history, so a warm session's next model call need not wait (turn-cache.ts). */
  private cache: TurnCache | undefined;
  /** The settings the cache was made under: a turn under other settings does not use it. */
  private cacheConfig = '';
  /** Bumped by forgetHistory: a turn that started before may not remember its (stale) history. */
  private historyEpoch = 0;
  /** Turns waiting for their attachments to be indexed on the queue (services/attachment-index.ts). */
  private indexWaiters = new IndexWaiters();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // A new instance never has a turn running: a saved one was left by an instance that died.
    ctx.blockConcurrencyWhile(() => this.recover());
  }

  /** Queues a turn; returns its event stream at once (events start when the turn's time comes). */
  async turn(request: TurnRequest): Promise<ReadableStream<Uint8Array>> {
    const sender = new Listener((l) => this.live?.listeners.delete(l));
    if (this.waiting >= MAX_WAITING_TURNS) {
      const message = `${MAX_WAITING_TURNS} messages are already waiting on this session.`;
      sender.send(wireError(new AppError('RATE_LIMITED', message, { retryAfter: 5 })));
      sender.close();
      return sender.stream;
    }
    this.waiting++;
    // A turn never rejects the queue: the next one runs whatever happened to this one.
    this.queue = this.queue
      .then(() => this.runTurn(request, sender))
      .catch((error: unknown) =>
        log('error', { requestId: request.requestId, env: this.env }, 'turn_failed', {}, error),
      )
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
    const live = this.liveReply(organizationId, replyId);
    if (!live) return null;
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
    const live = this.liveReply(organizationId, replyId);
    if (!live) return { known: false, reply: null };
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

  /** The ingestion queue is done (READY or FAILED) with an attachment of this session: a turn may be waiting. */
  async attachmentIndexed(attachmentId: string): Promise<void> {
    this.indexWaiters.indexed(attachmentId);
  }

  /** Whether this object is generating `replyId` now (the cron sweeper asks before closing). */
  async isGenerating(organizationId: string, replyId: string): Promise<boolean> {
    return this.live?.organizationId === organizationId && this.live.replyId === replyId;
  }

  override async alarm(): Promise<void> {
    if (this.live) {
      await armRecovery(this.ctx.storage, RECOVERY_ALARM_MS);
      return;
    }
    await this.recover();
  }

  /** The reply being generated, if it is the organization's and `replyId` (any when null). */
  private liveReply(organizationId: string, replyId: string | null): LiveReply | undefined {
    const live = this.live;
    if (!live || live.organizationId !== organizationId || (replyId !== null && live.replyId !== replyId)) return;
    return live;
  }

  private recover(): Promise<void> {
    return closeSavedTurn(this.ctx.storage, this.env, () => this.live !== undefined);
  }

  private async runTurn(request: TurnRequest, sender: Listener): Promise<void> {
    const run = new TurnRun(request, sender, {
      storage: this.ctx.storage,
      env: this.env,
      setLive: (live) => {
        this.live = live;
      },
    });
    try {
      const { turn } = request;
      const deps = this.turnDeps(request);
      const result =
        'regenerate' in turn
          ? await executeRegeneration(deps, turn, run.hooks())
          : 'edit' in turn
            ? await executeEdit(deps, turn, run.hooks())
            : await executeTurn(deps, turn, run.hooks());
      run.succeeded(result.reply);
    } catch (error) {
      run.failed(error);
    } finally {
      await run.close();
    }
  }

  /** What the turn needs: the database, the request's settings, and this object's memory of the last turn. */
  private turnDeps(request: TurnRequest): TurnDeps {
    const { config } = request;
    const settings = JSON.stringify(config);
    const epoch = this.historyEpoch;
    return {
      db: createDb(this.env),
      config,
      organizationId: request.organizationId,
      log: { requestId: request.requestId, env: this.env },
      resolveModel: (persona) => resolveModel(config.model, persona),
      onWebhookEvents: () =>
        kickOutbox({
          db: createDb(this.env),
          organizationId: request.organizationId,
          env: this.env,
          waitUntil: (p) => this.ctx.waitUntil(p),
        }),
      attachmentIndex: attachmentIndexPort(this.env, request.organizationId, this.indexWaiters),
      // Settings from the request shape the prompt; a cache made under other settings is not used.
      cache: this.cache && this.cacheConfig === settings ? this.cache : undefined,
      remember: (cache) => {
        if (this.historyEpoch !== epoch) return;
        this.cache = cache;
        this.cacheConfig = settings;
      },
    };
  }
}
