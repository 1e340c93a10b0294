import { entriesUnder, readXml, type ZipArchive } from './zip';

/**
 * The one XML scan the Office readers share. Their XML comes from files anyone can upload, so it is
 * read in a single pass from one "<" to the next with indexOf (no regex that could backtrack on
 * attacker input): the work is linear in the XML whatever it contains.
 */

/** A tag is looked at through its first characters only: the names and attributes we read are short. */
const TAG_WINDOW = 1_000;

export type XmlTag = {
  /** "w:p", "/w:p", "c"… ("" for declarations and comments). */
  name: string;
  /** The tag's text between "<" and ">", cut to TAG_WINDOW characters. */
  tag: string;
  selfClosing: boolean;
};

function tagName(tag: string): string {
  let end = tag.charCodeAt(0) === 47 /* / */ ? 1 : 0;
  while (end < tag.length) {
    const c = tag.charCodeAt(end);
    // Letters, digits, "_", ":", "-" and "." make an XML name (close enough for OOXML).
    const nameChar =
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 58) || c === 95 || c === 45 || c === 46;
    if (!nameChar) break;
    end++;
  }
  return tag.slice(0, end);
}

/**
 * Calls `onText` with the raw (still escaped) text before each tag, and `onTag` with each tag. Text
 * and tags come in document order; what follows the last complete tag is ignored.
 */
export function scanXml(xml: string, onTag: (tag: XmlTag) => void, onText: (raw: string) => void): void {
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    if (lt > i) onText(xml.slice(i, lt));
    const gt = xml.indexOf('>', lt);
    if (gt < 0) break;
    const tag = xml.slice(lt + 1, Math.min(gt, lt + 1 + TAG_WINDOW));
    onTag({ name: tagName(tag), tag, selfClosing: tag.endsWith('/') });
    i = gt + 1;
  }
}

/** The element names of a WordprocessingML or DrawingML text body. */
export type TextMarkup = { text: string; paragraph: string; tab: string; breaks: string[]; style?: string };

/**
 * One line per paragraph with text: runs' text joined, tabs and breaks kept, and, where the markup
 * has paragraph styles, "# " before paragraphs styled as headings (the chunker starts chunks there).
 */
export function paragraphLines(xml: string, markup: TextMarkup): string[] {
  const lines: string[] = [];
  const { text, paragraph, tab, breaks, style: styleTag } = markup;
  let line = '';
  let style = '';
  let inText = false;
  const endParagraph = () => {
    const trimmed = line.trim();
    if (trimmed !== '') lines.push(/^(heading|title)/i.test(style) ? `# ${trimmed}` : trimmed);
    line = '';
    style = '';
  };
  scanXml(
    xml,
    ({ name, tag, selfClosing }) => {
      if (name === text) inText = !selfClosing;
      else if (name === `/${text}`) inText = false;
      else if (name === tab) line += '\t';
      else if (breaks.includes(name)) line += '\n';
      else if (name === styleTag) style = attribute(tag, 'w:val') ?? '';
      else if (name === `/${paragraph}` || (name === paragraph && selfClosing)) endParagraph();
    },
    (raw) => {
      if (inText) line += decodeXmlText(raw);
    },
  );
  endParagraph();
  return lines;
}

/** The value of attribute `name` in a tag (entities decoded), found with indexOf. */
export function attribute(tag: string, name: string): string | undefined {
  const key = ` ${name}="`;
  const start = tag.indexOf(key);
  if (start < 0) return undefined;
  const end = tag.indexOf('"', start + key.length);
  return end < 0 ? undefined : decodeXmlText(tag.slice(start + key.length, end));
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML's five named entities and numeric character references (the pattern is fixed-width: no backtracking). */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-f]{1,6});/gi, (m, e: string) => {
    if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
    const n = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
    return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m;
  });
}

/**
 * The parts a main part lists, in its order: `r:id` of each `listTag` in `mainXml` (sheets of a
 * workbook, slides of a presentation), resolved through the main part's relationships (`relsXml`)
 * to part names. `dir` is the main part's folder ("xl/"), which relative targets start from.
 */
function orderedParts(
  mainXml: string,
  relsXml: string,
  listTag: string,
  dir: string,
  max: number,
): { name: string; label: string | undefined }[] {
  const targets = new Map<string, string>();
  scanXml(
    relsXml,
    ({ name, tag }) => {
      const id = name === 'Relationship' ? attribute(tag, 'Id') : undefined;
      const target = id === undefined ? undefined : attribute(tag, 'Target');
      if (id !== undefined && target !== undefined) {
        targets.set(id, target.startsWith('/') ? target.slice(1) : dir + target);
      }
    },
    () => {},
  );
  const parts: { name: string; label: string | undefined }[] = [];
  scanXml(
    mainXml,
    ({ name, tag }) => {
      if (name !== listTag || parts.length >= max) return;
      const target = targets.get(attribute(tag, 'r:id') ?? '');
      if (target !== undefined) parts.push({ name: target, label: attribute(tag, 'name') });
    },
    () => {},
  );
  return parts;
}

/**
 * The parts (sheets, slides) a main part lists, in its order, at most `max`: `mainXml`'s `listTag`
 * elements resolved through its relationships part. Without that part (some writers omit it), or
 * when nothing resolves through it (a writer with its own prefix for r:id), the
 * parts named `fallbackPrefix` + a number + ".xml" are taken in the order of that number (sheet10
 * after sheet9).
 */
export async function listedParts(
  zip: ZipArchive,
  mainXml: string,
  mainPart: string,
  listTag: string,
  fallbackPrefix: string,
  max: number,
): Promise<{ name: string; label: string | undefined }[]> {
  const dir = mainPart.slice(0, mainPart.lastIndexOf('/') + 1);
  const relsXml = await readXml(zip, `${dir}_rels/${mainPart.slice(dir.length)}.rels`);
  const ordered = relsXml === undefined ? [] : orderedParts(mainXml, relsXml, listTag, dir, max);
  if (ordered.length > 0) return ordered;
  const number = (name: string) => Number(name.slice(fallbackPrefix.length, -'.xml'.length));
  return entriesUnder(zip, fallbackPrefix, max)
    .filter((name) => /^\d+\.xml$/.test(name.slice(fallbackPrefix.length)))
    .sort((a, b) => number(a) - number(b))
    .map((name) => ({ name, label: undefined }));
}
