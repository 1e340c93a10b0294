import type { ResolvedModel } from '../ai/model';
import type { BuiltPrompt } from '../ai/prompt';
import type { ReplyOutcome } from '../ai/reply';
import { CHARS_PER_TOKEN, type Config } from '../config';
import type { Db } from '../db/client';
import type { IdempotencyClaim } from '../db/queries/idempotency';
import type { MessageRole, NewAttachment } from '../db/queries/messages';
import type { LogScope } from '../log';
import type { AttachmentJob } from '../sources/job';
import type { MessageView } from '../views/message';
import type { Services } from '.';
import type { TurnKnowledge } from './retrieval';
import type { TurnCache } from './turn-cache';

/** The shapes of a conversation turn, shared by its steps (send-message.ts and turn-*.ts). */

export type SendMessageInput = {
  chatSessionId: string;
  content: string;
  role: MessageRole;
  metadata?: Record<string, unknown> | undefined;
  attachments: NewAttachment[];
};

/** One turn as the session's Durable Object runs it: the message, its ids, and its Idempotency-Key claim. */
export type TurnInput = {
  input: SendMessageInput;
  claim: IdempotencyClaim | undefined;
  messageId: string;
  /** The reply placeholder's id; undefined when the message gets no reply (ASSISTANT, SYSTEM). */
  replyId: string | undefined;
};

/** A regeneration (issue 16) as the session's object runs it: a new reply to the USER message `messageId`. */
export type RegenerationTurn = {
  regenerate: { chatSessionId: string; messageId: string };
  claim: IdempotencyClaim | undefined;
  replyId: string;
};

/**
 * An edit (issue 16) as the session's object runs it: user message `messageId` replaced, on a new
 * branch, by `editId` with `content`, which gets the reply `replyId`.
 */
export type EditTurn = {
  edit: { chatSessionId: string; messageId: string; content: string };
  claim: IdempotencyClaim | undefined;
  editId: string;
  replyId: string;
};

export type TurnHooks = {
  /** Called once the user's message is committed, before the model is called. */
  onStored?: (message: MessageView, replyId: string | null) => void;
  /** Called once when a new reply placeholder is committed (not for an Idempotency-Key replay). */
  onReplyStarted?: (replyId: string) => void;
  onDelta?: (delta: string) => void;
  stopSignal?: AbortSignal;
};

export type TurnResult = {
  message: MessageView;
  /** The stored reply (any status); null for ASSISTANT/SYSTEM sends, which get no reply. */
  reply: MessageView | null;
  outcome: ReplyOutcome | null;
  /** True when an Idempotency-Key matched an earlier request whose result this is. */
  replayed: boolean;
};

/**
 * The settings a turn reads, taken from the request's config by the Worker that took the request
 * and passed to the session's object. In production they equal the object's own config; passing
 * them keeps a deployment's (or a test's) per-request settings in force.
 */
export type TurnConfig = {
  model: Config['model'];
  context: Config['context'];
  limits: Pick<Config['limits'], 'dailyModelCalls'>;
  /** Hybrid retrieval's query embedding (issue 17). */
  embeddings: Config['embeddings'];
  /** How long a turn waits for its attachments to be indexed whole (attachment-index.ts). */
  attachments: Pick<Config['attachments'], 'indexWaitMs'>;
};

export function turnConfig(config: Config): TurnConfig {
  return {
    model: config.model,
    context: config.context,
    limits: { dailyModelCalls: config.limits.dailyModelCalls },
    embeddings: config.embeddings,
    attachments: { indexWaitMs: config.attachments.indexWaitMs },
  };
}

/** What a turn needs, wherever it runs (the session's Durable Object). */
export type TurnDeps = {
  db: Db;
  config: TurnConfig;
  organizationId: string;
  /** The request that started the turn, for its log lines. */
  log: LogScope;
  resolveModel: Services['resolveModel'];
  /** The session object's memory of its last turn, and how to update it (src/services/turn-cache.ts). */
  cache?: TurnCache | undefined;
  remember?: (cache: TurnCache | undefined) => void;
  /** Called when a statement of the turn wrote webhook events: drain them now (src/webhooks/dispatch.ts). */
  onWebhookEvents?: () => void;
  /** Hands attachments left unread by the request to the ingestion queue (attachment-index.ts). */
  attachmentIndex?: AttachmentIndexPort;
};

/** Messages of history a turn reads at most. */
export const HISTORY_LIMIT = 200;

/** How much history a turn reads, from the context budget. */
export type TurnLimits = {
  budget: number;
  /**
   * Characters of history (message text plus attachment text) worth reading: more than the budget
   * can ever hold at CHARS_PER_TOKEN. The read stops in SQL at the first message past it (that one
   * is still read, so the prompt can note the cut).
   */
  historyChars: number;
  /** Characters of one attachment's text worth reading. */
  attachmentChars: number;
  historyLimit: number;
};

export function turnLimits(config: TurnConfig): TurnLimits {
  const budget = config.context.tokenBudget;
  const chars = budget * CHARS_PER_TOKEN;
  return { budget, historyChars: chars, attachmentChars: chars, historyLimit: HISTORY_LIMIT };
}

/** The model call a turn makes: its prompt, its model, and the knowledge the prompt holds. */
export type PlannedCall = {
  prompt: BuiltPrompt;
  model: ResolvedModel;
  knowledge: TurnKnowledge;
  /** Attachments of this message indexed off the request, and how long the turn waited for them. */
  indexing?: IndexingReport;
};

/** What a turn needs from its session's object to hand attachments to the queue and hear back. */
export type AttachmentIndexPort = {
  /** Starts listening for the attachments' "indexed" notices (before their jobs are queued: none is missed). */
  expect(ids: string[]): IndexWait;
  queue(jobs: AttachmentJob[]): Promise<void>;
  /** Deletes the bytes of attachments whose message was not stored. */
  discard(ids: string[]): Promise<void>;
};

/** Resolves with the ids still not indexed when `timeoutMs` passed or `signal` aborted. */
export type IndexWait = (timeoutMs: number, signal?: AbortSignal) => Promise<string[]>;

/** What the reply's metadata says about attachments indexed off the request. */
export type IndexingReport = { attachments: string[]; pending: string[]; waitedMs: number };
