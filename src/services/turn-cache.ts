import type { HistoryMessage } from '../ai/prompt';
import type { NewAttachment } from '../db/queries/messages';
import type { TurnSession } from '../db/queries/turns';

/**
 * What a session object remembers from its last turn so the next one can call the model before
 * its first database round trip returns: the persona and the history as Postgres gave them (plus
 * the reply it stored). It is only a guess: the turn's round trip reads both again, and the
 * early model call is used only if the guess matched exactly; otherwise it is aborted unheard and
 * the model is called again with what Postgres said. So a persona edit, a reply closed meanwhile
 * or anything else the object did not see applies from the next turn on, never a stale prompt.
 */
export type TurnCache = {
  persona: TurnSession['persona'];
  /** Oldest first, ending with the last turn's reply. */
  history: HistoryMessage[];
  /** When the cache was written; older than WARM_MS is not used. */
  at: number;
};

/** A session used within this long counts as warm (issue 14: "used in the last minute"). */
export const WARM_MS = 60_000;

function size(m: HistoryMessage, attachmentChars: number): number {
  return (
    m.content.length + m.attachments.reduce((n, a) => n + Math.min(a.storedChars ?? a.text.length, attachmentChars), 0)
  );
}

/**
 * The history a turn's round trip will return, as far as the object can tell: the same window
 * (newest first, stopping at the first message past `historyChars`) over the remembered messages.
 */
export function windowHistory(
  history: HistoryMessage[],
  limits: { historyChars: number; historyLimit: number; attachmentChars: number },
): HistoryMessage[] {
  const { historyChars, historyLimit, attachmentChars } = limits;
  const kept: HistoryMessage[] = [];
  let before = 0;
  for (let i = history.length - 1; i >= 0 && kept.length < historyLimit; i--) {
    const m = history[i] as HistoryMessage;
    if (before >= historyChars) break;
    kept.push(m);
    before += size(m, attachmentChars);
  }
  return kept.reverse();
}

/** The new message as the history read will return it; undefined when that cannot be predicted exactly. */
export function newHistoryMessage(
  id: string,
  role: HistoryMessage['role'],
  content: string,
  attachments: NewAttachment[],
  attachmentChars: number,
): HistoryMessage | undefined {
  // Postgres cuts with left() in code points; predicting that for longer text is not worth it.
  if (attachments.some((a) => a.text.length > attachmentChars)) return undefined;
  return {
    id,
    role,
    content,
    status: 'COMPLETE',
    attachments: attachments.map((a) => ({
      id: a.id,
      filename: a.filename,
      text: a.text,
      storedChars: a.text.length,
      hasText: a.hasText,
      truncated: a.truncated,
      pageCount: a.pageCount,
    })),
  };
}

/** Everything of the persona and history that shapes the prompt, as one comparable string. */
export function promptKey(persona: TurnSession['persona'], history: HistoryMessage[]): string {
  return JSON.stringify([
    persona.id,
    persona.version,
    persona.name,
    persona.instructions,
    persona.model,
    persona.temperature,
    persona.maxOutputTokens,
    history.map((m) => [m.id, m.status, m.content.length, m.attachments.map((a) => [a.id, a.text.length])]),
  ]);
}
