import type { SearchHitRow } from '../db/queries/search';
import { iso } from './dates';

const START = '\u0002';
const STOP = '\u0003';

const escapeHtml = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/**
 * Splits ts_headline's marked snippet into plain text and highlight ranges (UTF-16 offsets, as
 * JavaScript strings count), plus an HTML form with the text escaped and matches in <mark>, safe
 * to insert into a page whatever the message contained.
 */
export function highlight(marked: string) {
  let snippet = '';
  let html = '';
  const highlights: { start: number; end: number }[] = [];
  let open = -1;
  let from = 0;
  const text = (to: number) => {
    const part = marked.slice(from, to);
    snippet += part;
    html += escapeHtml(part);
  };
  for (let i = 0; i < marked.length; i++) {
    const c = marked[i];
    if (c !== START && c !== STOP) continue;
    text(i);
    from = i + 1;
    if (c === START) {
      open = snippet.length;
      html += '<mark>';
    } else {
      if (open >= 0) highlights.push({ start: open, end: snippet.length });
      open = -1;
      html += '</mark>';
    }
  }
  text(marked.length);
  return { snippet, highlights, snippetHtml: html };
}

export function searchHitView(h: SearchHitRow) {
  return {
    messageId: h.messageId,
    chatSessionId: h.chatSessionId,
    role: h.role,
    createdAt: iso(h.createdAt),
    rank: h.rank,
    ...highlight(h.marked),
    session: h.session,
  };
}

export type SearchHitView = ReturnType<typeof searchHitView>;
