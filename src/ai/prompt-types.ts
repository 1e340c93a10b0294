import type { ModelMessage } from 'ai';
import type { HistoryAttachment, HistoryMessage } from '../db/queries/message-rows';

// The history's shapes are the turn's read (db/queries/message-rows.ts); the prompt takes them as they are.
export type { HistoryAttachment, HistoryMessage };

/** What the prompt builder needs to know about a persona. */
export type PromptPersona = { name: string; instructions: string };

/**
 * A passage retrieved for this turn (src/services/retrieval.ts): from the persona's knowledge
 * sources, or from a large attachment of the session (then `attachmentId` is set).
 */
export type KnowledgePassage = {
  sourceId: string | null;
  attachmentId?: string | null;
  filename: string;
  pageStart: number | null;
  pageEnd: number | null;
  text: string;
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
