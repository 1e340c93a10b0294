import type { ModelMessage } from 'ai';

/** What the prompt builder needs to know about a persona. */
export type PromptPersona = { name: string; instructions: string };

export type HistoryAttachment = {
  id: string;
  filename: string;
  text: string;
  hasText: boolean;
  truncated: boolean;
  pageCount: number | null;
  /** Length of the stored text when `text` was read only in part (it can never all fit anyway). */
  storedChars?: number;
};

export type HistoryMessage = {
  id: string;
  role: 'USER' | 'ASSISTANT' | 'SYSTEM';
  content: string;
  status: 'COMPLETE' | 'STREAMING' | 'INCOMPLETE' | 'STOPPED';
  attachments: HistoryAttachment[];
};

export type ContextAttachment = {
  id: string;
  filename: string;
  /** Set when only the beginning of the text fitted in the budget. */
  partial?: true;
};

export type ContextReport = {
  tokenBudget: number;
  estimatedTokens: number;
  messagesIncluded: number;
  messagesOmitted: number;
  /** Oldest message that made it into the context (older ones were dropped to fit the budget). */
  oldestIncludedMessageId: string | null;
  /** Attachments whose text the model got, newest message first. */
  attachmentsIncluded: ContextAttachment[];
  /** Attachments of the history the model did not get (no room left), newest message first. */
  attachmentsOmitted: ContextAttachment[];
};

export type BuiltPrompt = {
  instructions: string;
  messages: ModelMessage[];
  context: ContextReport;
};

/** A rough, provider-neutral estimate (about 4 characters per token for English text). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function systemPrompt(persona: PromptPersona): string {
  const instructions = persona.instructions.trim();
  return instructions === '' ? `You are ${persona.name}, a helpful assistant.` : instructions;
}

/**
 * Below this many tokens of room, an attachment that does not fit is omitted rather than cut: a few
 * hundred characters of a document mislead more than they help.
 */
export const MIN_PARTIAL_ATTACHMENT_TOKENS = 500;

function attachmentHead(a: HistoryAttachment): string {
  const pages = a.pageCount === null ? '' : ` pages="${a.pageCount}"`;
  return `<attachment filename=${JSON.stringify(a.filename)}${pages}>`;
}

/** The document's own text must not be able to close the delimiter early. */
function escapeDelimiter(text: string): string {
  return text.replace(/<(\/?)attachment/gi, '<$1\u200Battachment');
}

/**
 * One attachment as the model sees it: its text between delimiters naming the file. `maxChars`
 * cuts the text to fit the budget (the model is told it sees only the beginning).
 */
export function renderAttachment(a: HistoryAttachment, maxChars = Number.POSITIVE_INFINITY): string {
  const head = attachmentHead(a);
  if (!a.hasText) {
    return `${head}\n[This document has no extractable text (for example a scanned image); its contents are not available.]\n</attachment>`;
  }
  const text = escapeDelimiter(a.text);
  const total = Math.max(a.storedChars ?? 0, text.length);
  if (text.length > maxChars || total > text.length) {
    const shown = text.slice(0, Math.max(0, maxChars));
    return `${head}\n${shown}\n[Only the first ${shown.length} of ${total} characters of this document fit in the context.]\n</attachment>`;
  }
  const note = a.truncated ? '\n[The document was longer; only its beginning is shown.]' : '';
  return `${head}\n${text}${note}\n</attachment>`;
}

function omittedNote(a: HistoryAttachment): string {
  return `[Attachment ${JSON.stringify(a.filename)} is not shown: it does not fit in the context.]`;
}

function statusNote(message: HistoryMessage): string {
  if (message.status === 'STOPPED') return '\n\n[This reply was stopped before it finished.]';
  if (message.status === 'INCOMPLETE') return '\n\n[This reply was interrupted before it finished.]';
  return '';
}

/**
 * Builds the model's input from the persona and the session's history (oldest first, ending with
 * the turn being answered). History is kept newest first until the token budget is spent; older
 * messages are dropped. Attachment text is kept for the most recent messages that fit: an
 * attachment larger than the room left is cut to fit (when at least MIN_PARTIAL_ATTACHMENT_TOKENS
 * remain), otherwise replaced by a one-line note. The current turn is always sent.
 */
export function buildPrompt(persona: PromptPersona, history: HistoryMessage[], tokenBudget: number): BuiltPrompt {
  const instructions = systemPrompt(persona);
  let used = estimateTokens(instructions);
  const picked: ModelMessage[] = [];
  const attachmentsIncluded: ContextReport['attachmentsIncluded'] = [];
  const attachmentsOmitted: ContextReport['attachmentsOmitted'] = [];
  let oldestIncludedMessageId: string | null = null;
  let included = 0;

  let i = history.length - 1;
  for (; i >= 0; i--) {
    const message = history[i];
    if (!message) continue;
    const isCurrent = i === history.length - 1;
    const body = message.content + statusNote(message);
    if (message.role === 'ASSISTANT' && message.content.trim() === '') continue;
    const bodyTokens = estimateTokens(body);
    // The least each attachment can cost: its one-line note, or its whole text when that is shorter.
    const fallbacks = message.attachments.map((a) =>
      Math.min(estimateTokens(omittedNote(a)), estimateTokens(renderAttachment(a))),
    );
    let reserve = fallbacks.reduce((sum, n) => sum + n, 0);
    if (!isCurrent && used + bodyTokens + reserve > tokenBudget) break;
    used += bodyTokens;

    const parts = [body];
    message.attachments.forEach((attachment, j) => {
      // What is left once the later attachments of this message are sure to fit (as notes at least).
      reserve -= fallbacks[j] ?? 0;
      const room = tokenBudget - used - reserve;
      const rendered = renderAttachment(attachment);
      const cost = estimateTokens(rendered);
      if (cost <= room) {
        used += cost;
        parts.push(rendered);
        attachmentsIncluded.push({ id: attachment.id, filename: attachment.filename });
      } else if (room >= MIN_PARTIAL_ATTACHMENT_TOKENS) {
        // Leave room for the delimiters and the note, then fill the rest with the text's beginning.
        let maxChars = (room - estimateTokens(renderAttachment(attachment, 0))) * 4;
        let cut = renderAttachment(attachment, maxChars);
        while (estimateTokens(cut) > room && maxChars > 0) {
          maxChars -= (estimateTokens(cut) - room) * 4;
          cut = renderAttachment(attachment, maxChars);
        }
        used += estimateTokens(cut);
        parts.push(cut);
        attachmentsIncluded.push({ id: attachment.id, filename: attachment.filename, partial: true });
      } else {
        const note = omittedNote(attachment);
        used += estimateTokens(note);
        parts.push(note);
        attachmentsOmitted.push({ id: attachment.id, filename: attachment.filename });
      }
    });
    const text = parts.join('\n\n');
    if (message.role === 'ASSISTANT') picked.push({ role: 'assistant', content: text });
    // Imported or operator SYSTEM messages are context, not instructions: sent as user-side notes.
    else if (message.role === 'SYSTEM') picked.push({ role: 'user', content: `[System note] ${text}` });
    else picked.push({ role: 'user', content: text });
    oldestIncludedMessageId = message.id;
    included++;
  }
  // Attachments of the messages dropped to fit the budget did not reach the model either.
  for (; i >= 0; i--) {
    for (const attachment of history[i]?.attachments ?? []) {
      attachmentsOmitted.push({ id: attachment.id, filename: attachment.filename });
    }
  }

  picked.reverse();
  return {
    instructions,
    messages: picked,
    context: {
      tokenBudget,
      estimatedTokens: used,
      messagesIncluded: included,
      messagesOmitted: history.length - included,
      oldestIncludedMessageId,
      attachmentsIncluded,
      attachmentsOmitted,
    },
  };
}
