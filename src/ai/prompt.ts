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
};

export type HistoryMessage = {
  id: string;
  role: 'USER' | 'ASSISTANT' | 'SYSTEM';
  content: string;
  status: 'COMPLETE' | 'STREAMING' | 'INCOMPLETE' | 'STOPPED';
  attachments: HistoryAttachment[];
};

export type ContextReport = {
  tokenBudget: number;
  estimatedTokens: number;
  messagesIncluded: number;
  messagesOmitted: number;
  /** Oldest message that made it into the context (older ones were dropped to fit the budget). */
  oldestIncludedMessageId: string | null;
  attachmentsIncluded: { id: string; filename: string }[];
  attachmentsOmitted: { id: string; filename: string }[];
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

function renderAttachment(a: HistoryAttachment): string {
  const pages = a.pageCount === null ? '' : ` pages="${a.pageCount}"`;
  const head = `<attachment filename=${JSON.stringify(a.filename)}${pages}>`;
  if (!a.hasText) {
    return `${head}\n[This document has no extractable text (for example a scanned image); its contents are not available.]\n</attachment>`;
  }
  const note = a.truncated ? '\n[The document was longer; only its beginning is shown.]' : '';
  return `${head}\n${a.text}${note}\n</attachment>`;
}

function statusNote(message: HistoryMessage): string {
  if (message.status === 'STOPPED') return '\n\n[This reply was stopped before it finished.]';
  if (message.status === 'INCOMPLETE') return '\n\n[This reply was interrupted before it finished.]';
  return '';
}

/**
 * Builds the model's input from the persona and the session's history (oldest first, ending with
 * the turn being answered). History is kept newest first until the token budget is spent; older
 * messages are dropped. Attachment text is kept for the most recent messages that fit; an older
 * attachment that does not fit is replaced by a one-line note. The current turn is always sent.
 */
export function buildPrompt(persona: PromptPersona, history: HistoryMessage[], tokenBudget: number): BuiltPrompt {
  const instructions = systemPrompt(persona);
  let used = estimateTokens(instructions);
  const picked: ModelMessage[] = [];
  const attachmentsIncluded: ContextReport['attachmentsIncluded'] = [];
  const attachmentsOmitted: ContextReport['attachmentsOmitted'] = [];
  let oldestIncludedMessageId: string | null = null;
  let included = 0;

  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i];
    if (!message) continue;
    const isCurrent = i === history.length - 1;
    const body = message.content + statusNote(message);
    if (message.role === 'ASSISTANT' && message.content.trim() === '') continue;
    const bodyTokens = estimateTokens(body);
    if (!isCurrent && used + bodyTokens > tokenBudget) break;
    used += bodyTokens;

    const parts = [body];
    for (const attachment of message.attachments) {
      const rendered = renderAttachment(attachment);
      const cost = estimateTokens(rendered);
      if (used + cost <= tokenBudget) {
        used += cost;
        parts.push(rendered);
        attachmentsIncluded.push({ id: attachment.id, filename: attachment.filename });
      } else {
        const note = `[Attachment ${JSON.stringify(attachment.filename)} is not shown: it does not fit in the context.]`;
        used += estimateTokens(note);
        parts.push(note);
        attachmentsOmitted.push({ id: attachment.id, filename: attachment.filename });
      }
    }
    const text = parts.join('\n\n');
    if (message.role === 'ASSISTANT') picked.push({ role: 'assistant', content: text });
    // Imported or operator SYSTEM messages are context, not instructions: sent as user-side notes.
    else if (message.role === 'SYSTEM') picked.push({ role: 'user', content: `[System note] ${text}` });
    else picked.push({ role: 'user', content: text });
    oldestIncludedMessageId = message.id;
    included++;
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
