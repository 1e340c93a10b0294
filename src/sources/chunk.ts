import type { Chunk } from '../db/queries/sources';

export type { Chunk };

/** Characters a chunk aims for (about 300 tokens): small enough to rank precisely, big enough to answer from. */
export const CHUNK_TARGET_CHARS = 1_200;
/** Characters of the previous chunk repeated at the start of the next, so a passage cut in two is still found whole. */
export const CHUNK_OVERLAP_CHARS = 200;
const HEADING_MAX_CHARS = 80;

/** Numbered ("2.3 Scope", "IV. Results"), Markdown ("## Setup") or named ("Chapter 4") headings. */
const HEADING =
  /^(?:#{1,6}\s+\S|(?:\d{1,3}(?:\.\d{1,3}){0,4}\.?|[IVXLC]{1,6}\.)\s+\p{Lu}|(?:chapter|section|kapitel|abschnitt|appendix|anhang)\s+\S)/iu;

export function isHeading(line: string): boolean {
  const t = line.trim();
  return t.length >= 3 && t.length <= HEADING_MAX_CHARS && !/[.,;:]$/.test(t) && HEADING.test(t);
}

/** The last `n` characters of a text, starting at a word boundary. */
function tail(text: string, n: number): string {
  if (text.length <= n) return text;
  const cut = text.slice(text.length - n);
  const space = cut.search(/\s/);
  return (space === -1 ? cut : cut.slice(space + 1)).toWellFormed();
}

/** Pieces of at most `max` characters, cut at whitespace where there is some. */
function pieces(line: string, max: number): string[] {
  if (line.length <= max) return [line];
  const out: string[] = [];
  let rest = line;
  while (rest.length > max) {
    let at = rest.lastIndexOf(' ', max);
    if (at < max / 2) at = max;
    out.push(rest.slice(0, at).toWellFormed());
    rest = rest.slice(at).trimStart();
  }
  if (rest) out.push(rest.toWellFormed());
  return out;
}

/**
 * Splits a document into chunks: each page on its own (a chunk never grows across a page break),
 * a new chunk at a detected heading once the current one has some text, and CHUNK_OVERLAP_CHARS of
 * the previous chunk carried into the next (its pages then start at the previous chunk's last
 * page). Linear in the text's length; the caller caps the length.
 */
export function chunkPages(pages: string[], paged: boolean): Chunk[] {
  const chunks: Chunk[] = [];
  let heading: string | null = null;
  let body = '';
  let bodyHeading: string | null = null;
  let startPage: number | null = null;
  let carried = '';
  let carriedPage: number | null = null;

  const flush = (page: number | null) => {
    if (body.trim() === '') return;
    const text = carried ? `${carried} ${body.trim()}` : body.trim();
    chunks.push({
      ordinal: chunks.length,
      pageStart: carried ? (carriedPage ?? startPage) : startPage,
      pageEnd: page,
      heading: bodyHeading,
      text,
    });
    carried = tail(body.trim(), CHUNK_OVERLAP_CHARS);
    carriedPage = page;
    body = '';
  };

  pages.forEach((pageText, index) => {
    const page = paged ? index + 1 : null;
    for (const rawLine of pageText.split('\n')) {
      const line = rawLine.trim();
      if (line === '') continue;
      if (isHeading(line)) {
        if (body.length >= CHUNK_TARGET_CHARS / 3) flush(page);
        heading = line;
      }
      for (const piece of pieces(line, CHUNK_TARGET_CHARS)) {
        if (body.length > 0 && body.length + piece.length + 1 > CHUNK_TARGET_CHARS) flush(page);
        if (body === '') {
          startPage = page;
          bodyHeading = heading;
        }
        body += body === '' ? piece : `\n${piece}`;
      }
    }
    flush(page);
  });
  return chunks;
}
