import { beginEdit, type EditTarget } from '../db/queries/edit-message';
import { AppError } from '../errors';
import { messageView } from '../views/message';
import { earlierResult, replayTurn } from './idempotency';
import { notStored } from './turn-refusals';
import { type BegunTurn, generate, planCall, rememberTurn, saveReply } from './turn-steps';
import {
  type EditTurn,
  type SendMessageInput,
  type TurnDeps,
  type TurnHooks,
  type TurnLimits,
  type TurnResult,
  turnLimits,
} from './turn-types';

/**
 * Why message `messageId` cannot be edited now, if it cannot (the Worker and the object both ask).
 * `keyed`: the request has an Idempotency-Key, so it may be a retry of an edit that put the message
 * out of use; the object answers that from the key, and the message's use is not asked here.
 */
export function editRefusal(target: EditTarget | undefined, messageId: string, keyed = false): AppError | undefined {
  if (!target) return new AppError('NOT_FOUND', `Message ${messageId} not found.`);
  if (target.message.role !== 'USER') return new AppError('BAD_REQUEST', 'Only a user message can be edited.');
  if (target.streaming) {
    return new AppError(
      'CONFLICT',
      'A reply in this session is being generated; stop it (chat.stopReply) or wait, then edit.',
    );
  }
  if (!target.inUse && !keyed) {
    return new AppError('BAD_REQUEST', `Message ${messageId} is not on the active branch; switch to it first.`);
  }
  return undefined;
}

/**
 * An edit, run by the session's Durable Object like a turn (src/services/send-message.ts): round
 * trip 1 stores the edit and a STREAMING reply on a new branch (the edited message and what
 * followed it go out of use) and reads the persona and the history (the messages in use before
 * the edited one, then the edit); the model runs; round trip 2 stores the reply. No early model
 * call: the object's memory holds the old branch's history.
 */
export async function executeEdit(deps: TurnDeps, turn: EditTurn, hooks: TurnHooks = {}): Promise<TurnResult> {
  try {
    return await editSteps(deps, turn, hooks, turnLimits(deps.config));
  } catch (error) {
    deps.remember?.(undefined);
    throw error;
  }
}

async function editSteps(deps: TurnDeps, turn: EditTurn, hooks: TurnHooks, limits: TurnLimits): Promise<TurnResult> {
  const { chatSessionId, messageId, content } = turn.edit;
  const input = { ...turn.edit, editId: turn.editId, replyId: turn.replyId, idempotency: turn.claim, ...limits };
  const begun = await beginEdit(deps.db, deps.organizationId, input, deps.config.limits.dailyModelCalls);
  const { session } = begun;
  if (!session) throw new AppError('NOT_FOUND', `Chat session ${chatSessionId} not found.`);
  const earlier = earlierResult(turn.claim, begun.idempotency);
  if (earlier) return replayTurn(deps.db, deps.organizationId, earlier, hooks);
  if (!begun.reply || !begun.message) throw editRefusal(begun.target, messageId) ?? notStored(session, true);
  const replyId = begun.reply.id;
  const message = messageView(begun.message);
  hooks.onReplyStarted?.(replyId);
  hooks.onStored?.(message, replyId);

  const turnBegun: BegunTurn = { ...begun, session };
  const asSent: SendMessageInput = { chatSessionId, content, role: 'USER', attachments: [] };
  const call = await planCall(deps, turnBegun, asSent, limits, undefined);
  const outcome = await generate(deps, session.persona, call, hooks);
  const reply = await saveReply(deps, turnBegun, replyId, call, outcome);
  rememberTurn(deps, turnBegun, reply, outcome, limits);
  return { message, reply, outcome, replayed: false };
}
