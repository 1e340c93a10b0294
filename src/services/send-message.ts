import { extractAttachments } from '../attachments/extract';
import type { AttachmentInput } from '../attachments/input';
import type { AuthedContext } from '../context';
import type { NewAttachment } from '../db/queries/messages';
import { getSessionState } from '../db/queries/sessions';
import { AppError } from '../errors';
import type { MessageView } from '../views/message';
import { awaitIndexing, queueIndexing, stashUnread } from './attachment-index';
import { callEarly, type EarlyCall } from './early-call';
import { earlierResult, replayTurn } from './idempotency';
import { sessionRefusal } from './turn-refusals';
import { generate, planCall, rememberTurn, saveReply, storedMessage, storeTurn } from './turn-steps';
import {
  type TurnDeps,
  type TurnHooks,
  type TurnInput,
  type TurnLimits,
  type TurnResult,
  turnLimits,
} from './turn-types';

/**
 * Validates and extracts a message's attachments. With attachments, the session is checked first
 * (one cheap query), so a send that would be refused does not pay for parsing a PDF and gets the
 * same 404/409 as without attachments.
 */
export async function prepareAttachments(
  ctx: AuthedContext,
  chatSessionId: string,
  inputs: AttachmentInput[],
): Promise<NewAttachment[]> {
  if (inputs.length === 0) return [];
  const state = await getSessionState(ctx.db, ctx.auth.organizationId, chatSessionId);
  if (!state) throw new AppError('NOT_FOUND', `Chat session ${chatSessionId} not found.`);
  const refusal = sessionRefusal(state);
  if (refusal) throw refusal;
  const extracted = await extractAttachments(inputs, ctx.config.attachments);
  return stashUnread(ctx.env, ctx, ctx.auth.organizationId, inputs, extracted);
}

/**
 * One conversation turn, run by the session's Durable Object. Round trip 1 stores the message (and
 * a STREAMING reply placeholder) and reads the persona and history; the model runs; round trip 2
 * stores the reply, complete or not. The user's message is committed before the model is called,
 * so no failure after that point can lose it. Nothing is written to Postgres while the model runs:
 * progress lives in the object (its memory and its own storage), so a turn costs Postgres the same
 * two statements whatever the reply's length or the number of listeners.
 */
export async function executeTurn(deps: TurnDeps, turn: TurnInput, hooks: TurnHooks = {}): Promise<TurnResult> {
  const limits = turnLimits(deps.config);
  // A warm session's model call starts now, overlapping the round trip that stores the message.
  const early = callEarly(deps, turn, limits, hooks);
  try {
    return await runTurnSteps(deps, turn, hooks, limits, early);
  } catch (error) {
    early?.cancel();
    deps.remember?.(undefined);
    throw error;
  }
}

/** Claim and store, prompt, generate, save, finish (src/services/turn-steps.ts). */
async function runTurnSteps(
  deps: TurnDeps,
  turn: TurnInput,
  hooks: TurnHooks,
  limits: TurnLimits,
  early: EarlyCall | undefined,
): Promise<TurnResult> {
  const begun = await storeTurn(deps, turn, limits);
  const indexing = await queueIndexing(deps, turn.input, begun.message !== undefined);
  const earlier = earlierResult(turn.claim, begun.idempotency);
  if (earlier) return replayTurn(deps.db, deps.organizationId, earlier, hooks);
  const message = storedMessage(begun, turn.input);
  if (!begun.reply) return withoutReply(deps, message, hooks, early);
  const replyId = begun.reply.id;
  hooks.onReplyStarted?.(replyId);
  hooks.onStored?.(message, replyId);

  // A long attachment is being read whole on the queue: its passages are worth the wait.
  const report = indexing && (await awaitIndexing(indexing, deps.config.attachments.indexWaitMs, hooks.stopSignal));
  const call = await planCall(deps, begun, turn.input, limits, early, report);
  const outcome = await generate(deps, begun.session.persona, call, hooks);
  const reply = await saveReply(deps, begun, replyId, call, outcome);
  rememberTurn(deps, begun, reply, outcome, limits);
  return { message, reply, outcome, replayed: false };
}

/** An ASSISTANT or SYSTEM message: stored, and no model call. */
function withoutReply(
  deps: TurnDeps,
  message: MessageView,
  hooks: TurnHooks,
  early: EarlyCall | undefined,
): TurnResult {
  early?.cancel();
  // A message without a reply changed the history behind the object's memory.
  deps.remember?.(undefined);
  hooks.onStored?.(message, null);
  return { message, reply: null, outcome: null, replayed: false };
}
