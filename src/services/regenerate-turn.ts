import { beginRegeneration, type RegenerationTarget } from '../db/queries/regenerate';
import { AppError } from '../errors';
import { messageView } from '../views/message';
import { earlierResult, replayTurn } from './idempotency';
import { notStored } from './turn-refusals';
import { type BegunTurn, generate, planCall, rememberTurn, saveReply } from './turn-steps';
import {
  type RegenerationTurn,
  type SendMessageInput,
  type TurnDeps,
  type TurnHooks,
  type TurnLimits,
  type TurnResult,
  turnLimits,
} from './turn-types';

/** Why the reply to a message cannot be regenerated now, if it cannot (the Worker and the object both ask). */
export function regenerationRefusal(target: RegenerationTarget | undefined, messageId: string): AppError | undefined {
  if (!target) return new AppError('NOT_FOUND', `Message ${messageId} not found.`);
  if (target.message.role !== 'USER') {
    return new AppError('BAD_REQUEST', 'Only the reply to a user message can be regenerated.');
  }
  if (target.streaming) {
    return new AppError(
      'CONFLICT',
      `A reply to message ${target.message.id} is being generated; stop it (chat.stopReply) or wait, then regenerate.`,
    );
  }
  if (!target.isLast) {
    // Later messages were written against the reply in use: only the last exchange is redone.
    return new AppError('BAD_REQUEST', "Only the reply to the session's last user message can be regenerated.");
  }
  return undefined;
}

/**
 * A regeneration, run by the session's Durable Object like a turn (src/services/send-message.ts)
 * but without a new message: round trip 1 stores a new STREAMING reply to the message (the version
 * in use until now is superseded) and reads the persona and the history up to the message, the
 * same history the earlier versions were made from; the model runs; round trip 2 stores the reply.
 * No early model call: the object's memory holds the history with the old version.
 */
export async function executeRegeneration(
  deps: TurnDeps,
  turn: RegenerationTurn,
  hooks: TurnHooks = {},
): Promise<TurnResult> {
  try {
    return await regenerationSteps(deps, turn, hooks, turnLimits(deps.config));
  } catch (error) {
    deps.remember?.(undefined);
    throw error;
  }
}

async function regenerationSteps(
  deps: TurnDeps,
  turn: RegenerationTurn,
  hooks: TurnHooks,
  limits: TurnLimits,
): Promise<TurnResult> {
  const { chatSessionId, messageId } = turn.regenerate;
  const input = { chatSessionId, messageId, replyId: turn.replyId, idempotency: turn.claim, ...limits };
  const begun = await beginRegeneration(deps.db, deps.organizationId, input, deps.config.limits.dailyModelCalls);
  const { session, target } = begun;
  if (!session) throw new AppError('NOT_FOUND', `Chat session ${chatSessionId} not found.`);
  const earlier = earlierResult(turn.claim, begun.idempotency);
  if (earlier) return replayTurn(deps.db, deps.organizationId, earlier, hooks);
  if (!begun.reply || !target) throw regenerationRefusal(target, messageId) ?? notStored(session, true);
  const replyId = begun.reply.id;
  const message = messageView(target.message);
  hooks.onReplyStarted?.(replyId);
  hooks.onStored?.(message, replyId);

  const turnBegun: BegunTurn = { ...begun, session };
  const asSent: SendMessageInput = { chatSessionId, content: message.content, role: 'USER', attachments: [] };
  const call = await planCall(deps, turnBegun, asSent, limits, undefined);
  const outcome = await generate(deps, session.persona, call, hooks);
  const reply = await saveReply(deps, turnBegun, replyId, call, outcome);
  rememberTurn(deps, turnBegun, reply, outcome, limits);
  return { message, reply, outcome, replayed: false };
}
