import type { ModelMessage } from 'ai';
import { CHARS_PER_TOKEN, estimateTokens } from '../config';
import {
  chooseBoundary,
  omittedNote,
  promptTexts,
  renderAttachment,
  renderPassage,
  statusNote,
  structureNote,
  tags,
  usesTags,
} from './prompt-tags';
import type {
  BuiltPrompt,
  ContextAttachment,
  HistoryAttachment,
  HistoryMessage,
  KnowledgePassage,
  PromptPersona,
} from './prompt-types';

// The prompt module's surface: its shapes and the structure helpers the offline model and tests use.
export {
  chooseBoundary,
  randomBoundary,
  readUserTurn,
  renderAttachment,
  renderPassage,
  structureNote,
} from './prompt-tags';
export type * from './prompt-types';

export function systemPrompt(persona: PromptPersona): string {
  const instructions = persona.instructions.trim();
  return instructions === '' ? `You are ${persona.name}, a helpful assistant.` : instructions;
}

/**
 * Below this many tokens of room, an attachment that does not fit is omitted rather than cut: a few
 * hundred characters of a document mislead more than they help.
 */
export const MIN_PARTIAL_ATTACHMENT_TOKENS = 500;

/** The budget as a build spends it, newest message first, with what it let in and left out. */
type Spend = {
  boundary: string;
  tokenBudget: number;
  used: number;
  included: ContextAttachment[];
  omitted: ContextAttachment[];
};

/** The beginning of an attachment's text, cut to fill `room` tokens with its delimiters and note. */
function cutToFit(attachment: HistoryAttachment, room: number, boundary: string): string {
  let maxChars = (room - estimateTokens(renderAttachment(attachment, boundary, 0))) * CHARS_PER_TOKEN;
  let cut = renderAttachment(attachment, boundary, maxChars);
  while (estimateTokens(cut) > room && maxChars > 0) {
    maxChars -= (estimateTokens(cut) - room) * CHARS_PER_TOKEN;
    cut = renderAttachment(attachment, boundary, maxChars);
  }
  return cut;
}

/** One attachment in `room` tokens: whole, cut (with at least MIN_PARTIAL_ATTACHMENT_TOKENS), or a note. */
function fitAttachment(attachment: HistoryAttachment, room: number, spend: Spend): string {
  const { id, filename } = attachment;
  const rendered = renderAttachment(attachment, spend.boundary);
  let text: string;
  if (estimateTokens(rendered) <= room) {
    text = rendered;
    spend.included.push({ id, filename });
  } else if (room >= MIN_PARTIAL_ATTACHMENT_TOKENS) {
    text = cutToFit(attachment, room, spend.boundary);
    spend.included.push({ id, filename, partial: true });
  } else {
    text = omittedNote(attachment, spend.boundary);
    spend.omitted.push({ id, filename });
  }
  spend.used += estimateTokens(text);
  return text;
}

/**
 * A message's parts (its text, then its attachments as far as they fit), or undefined when an
 * older message does not fit at all. The current turn is always taken.
 */
function fitMessage(message: HistoryMessage, isCurrent: boolean, spend: Spend): string[] | undefined {
  const { boundary, tokenBudget } = spend;
  const body = message.content + statusNote(message, boundary);
  const bodyTokens = estimateTokens(body);
  // The least each attachment can cost: its one-line note, or its whole text when that is shorter.
  const fallbacks = message.attachments.map((a) =>
    Math.min(estimateTokens(omittedNote(a, boundary)), estimateTokens(renderAttachment(a, boundary))),
  );
  let reserve = fallbacks.reduce((sum, n) => sum + n, 0);
  if (!isCurrent && spend.used + bodyTokens + reserve > tokenBudget) return undefined;
  spend.used += bodyTokens;
  const parts = [body];
  message.attachments.forEach((attachment, j) => {
    // What is left once the later attachments of this message are sure to fit (as notes at least).
    reserve -= fallbacks[j] ?? 0;
    parts.push(fitAttachment(attachment, tokenBudget - spend.used - reserve, spend));
  });
  return parts;
}

function modelMessage(message: HistoryMessage, text: string, boundary: string): ModelMessage {
  if (message.role === 'ASSISTANT') return { role: 'assistant', content: text };
  // Imported or operator SYSTEM messages are context, not instructions: sent as user-side notes,
  // tagged so that a user's "[System note]" stays the user's own words.
  if (message.role === 'SYSTEM') return { role: 'user', content: tags(boundary).systemNote(text) };
  return { role: 'user', content: text };
}

/**
 * Builds the model's input from the persona and the session's history (oldest first, ending with
 * the turn being answered). History is kept newest first until the token budget is spent; older
 * messages are dropped. Attachment text is kept for the most recent messages that fit: an
 * attachment larger than the room left is cut to fit (when at least MIN_PARTIAL_ATTACHMENT_TOKENS
 * remain), otherwise replaced by a one-line note. The current turn is always sent. Every tag added
 * carries a boundary drawn for this build (see "Prompt structure" in prompt-tags.ts); `drawBoundary`
 * replaces the random source in tests.
 */
export function buildPrompt(
  persona: PromptPersona,
  history: HistoryMessage[],
  tokenBudget: number,
  options: { drawBoundary?: () => string; knowledge?: KnowledgePassage[] } = {},
): BuiltPrompt {
  const knowledge = options.knowledge ?? [];
  const boundary = chooseBoundary(promptTexts(persona, history, knowledge), options.drawBoundary);
  const own = systemPrompt(persona);
  const instructions = usesTags(history) || knowledge.length > 0 ? `${own}\n\n${structureNote(boundary)}` : own;
  // Retrieved passages go with the current turn, after its own text and attachments; the caller
  // (retrieveForTurn) already fitted them into their own share of the budget.
  const passages = knowledge.map((p) => renderPassage(p, boundary));
  const used = estimateTokens(instructions) + passages.reduce((sum, p) => sum + estimateTokens(p) + 1, 0);
  const spend: Spend = { boundary, tokenBudget, used, included: [], omitted: [] };
  const picked: ModelMessage[] = [];
  let oldestIncludedMessageId: string | null = null;
  let i = history.length - 1;
  for (; i >= 0; i--) {
    const message = history[i];
    if (!message || (message.role === 'ASSISTANT' && message.content.trim() === '')) continue;
    const isCurrent = i === history.length - 1;
    const parts = fitMessage(message, isCurrent, spend);
    if (!parts) break;
    if (isCurrent) parts.push(...passages);
    picked.push(modelMessage(message, parts.join('\n\n'), boundary));
    oldestIncludedMessageId = message.id;
  }
  // Attachments of the messages dropped to fit the budget did not reach the model either.
  for (; i >= 0; i--) {
    for (const { id, filename } of history[i]?.attachments ?? []) spend.omitted.push({ id, filename });
  }
  return {
    instructions,
    messages: picked.reverse(),
    context: {
      tokenBudget,
      estimatedTokens: spend.used,
      messagesIncluded: picked.length,
      messagesOmitted: history.length - picked.length,
      oldestIncludedMessageId,
      attachmentsIncluded: spend.included,
      attachmentsOmitted: spend.omitted,
    },
  };
}
