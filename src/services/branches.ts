import type { AuthedContext } from '../context';
import { listBranches, switchBranch } from '../db/queries/branches';
import { readEditTarget } from '../db/queries/edit-message';
import { AppError } from '../errors';
import { newId } from '../ids';
import { type BranchesView, branchesView } from '../views/branches';
import type { MessageView } from '../views/message';
import { editRefusal } from './edit-turn';
import { idempotencyClaim } from './idempotency';
import { forgetSessionHistory, sessionObject, type TurnEvent } from './session-object';
import { turnConfig } from './turn-types';
import { readEvents } from './turn-wire';

/**
 * Edits a user message (issue 16): one query finds it and its session (and answers the refusals
 * early), then the session's object runs the edit in its turn queue and streams the new reply like
 * a send. Edits carry no attachments (the edited message's stay on the old branch).
 */
export async function startEditStream(
  ctx: AuthedContext,
  messageId: string,
  content: string,
): Promise<AsyncGenerator<TurnEvent>> {
  const org = ctx.auth.organizationId;
  const target = await readEditTarget(ctx.db, org, messageId);
  const replyId = newId('message');
  const claim = await idempotencyClaim(ctx.headers, 'chat.editMessage', { messageId, content }, replyId);
  const refusal = editRefusal(target, messageId, claim !== undefined);
  if (refusal || !target) throw refusal;
  const chatSessionId = target.message.chatSessionId;
  const stream = await sessionObject(ctx.env, org, chatSessionId).turn({
    organizationId: org,
    requestId: ctx.requestId,
    config: turnConfig(ctx.config),
    turn: { edit: { chatSessionId, messageId, content }, claim, editId: newId('message'), replyId },
  });
  return readEvents(stream);
}

/** A whole edit, for the non-streamed chat.editMessage: the edit and its reply. */
export async function editMessage(
  ctx: AuthedContext,
  messageId: string,
  content: string,
): Promise<{ message: MessageView; reply: MessageView }> {
  let message: MessageView | undefined;
  let reply: MessageView | undefined;
  for await (const event of await startEditStream(ctx, messageId, content)) {
    if (event.type === 'message') message = event.message;
    else if (event.type === 'reply') reply = event.message;
  }
  if (!message || !reply) throw new AppError('INTERNAL', 'The edit ended without storing a reply.');
  return { message, reply };
}

/** The alternatives at each fork of the active branch. */
export async function branches(ctx: AuthedContext, chatSessionId: string): Promise<BranchesView> {
  const rows = await listBranches(ctx.db, ctx.auth.organizationId, chatSessionId);
  if (!rows[0]) throw new AppError('NOT_FOUND', `Chat session ${chatSessionId} not found.`);
  return branchesView(chatSessionId, rows);
}

/** Makes a branch the active one at its fork; answers the session's branches after the change. */
export async function chooseBranch(ctx: AuthedContext, chatSessionId: string, branchId: string): Promise<BranchesView> {
  const [row] = await switchBranch(ctx.db, ctx.auth.organizationId, chatSessionId, branchId);
  if (!row) throw new AppError('NOT_FOUND', `Branch ${branchId} not found in chat session ${chatSessionId}.`);
  if (!row.is_branch) throw new AppError('BAD_REQUEST', `Message ${branchId} starts no branch (it was never edited).`);
  if (row.streaming) {
    throw new AppError('CONFLICT', 'A reply in this session is being generated; stop it (chat.stopReply) or wait.');
  }
  if (row.current === null && !row.open) {
    throw new AppError(
      'BAD_REQUEST',
      `Branch ${branchId} forks inside a branch that is not active; switch to that first.`,
    );
  }
  // The object's memory of the last turn holds the branch left: it must not be sent early.
  if (row.current !== branchId) await forgetSessionHistory(ctx, chatSessionId);
  return branches(ctx, chatSessionId);
}
