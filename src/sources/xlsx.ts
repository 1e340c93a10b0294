import { attribute, decodeXmlText, listedParts, scanXml } from './xml';
import { openZip, readXml, requireXml } from './zip';

/**
 * Text of an Excel (.xlsx) workbook, without a dependency: the ZIP's `xl/workbook.xml` lists the
 * sheets (names, order), `xl/sharedStrings.xml` holds the strings cells refer to by number, and each
 * `xl/worksheets/sheetN.xml` the cells. All parts draw on one inflate budget (src/sources/zip.ts).
 * Each sheet becomes a "# <sheet name>" line, so the chunker starts a chunk there, then one line per
 * row, its cells' values joined by tabs. Values are as stored: numbers (dates too) unformatted,
 * formulas' last computed value, booleans TRUE/FALSE. Chart sheets have no cells and are skipped.
 */
const WORKBOOK = 'xl/workbook.xml';
const SHARED_STRINGS = 'xl/sharedStrings.xml';
/** Sheets read at most; the inflate budget bounds the work anyway, this bounds the parts looked up. */
const MAX_SHEETS = 200;

/** "x:si" → "si": some writers prefix SpreadsheetML's elements, most use it as the default namespace. */
function local(name: string): string {
  const colon = name.indexOf(':');
  if (colon < 0) return name;
  return name[0] === '/' ? `/${name.slice(colon + 1)}` : name.slice(colon + 1);
}

/** Each shared string `<si>`'s text: rich-text runs joined, phonetic guides (`<rPh>`) left out. */
function sharedStrings(xml: string): string[] {
  const out: string[] = [];
  let current = '';
  let inText = false;
  let inPhonetic = false;
  scanXml(
    xml,
    ({ name, selfClosing }) => {
      const n = local(name);
      if (n === 'si') {
        current = '';
        if (selfClosing) out.push('');
      } else if (n === '/si') out.push(current);
      else if (n === 't') inText = !selfClosing;
      else if (n === '/t') inText = false;
      else if (n === 'rPh') inPhonetic = !selfClosing;
      else if (n === '/rPh') inPhonetic = false;
    },
    (raw) => {
      if (inText && !inPhonetic) current += decodeXmlText(raw);
    },
  );
  return out;
}

function cellText(type: string, value: string, strings: string[]): string {
  if (type === 's') return strings[Number(value)] ?? '';
  if (type === 'b') return value.trim() === '1' ? 'TRUE' : 'FALSE';
  return value;
}

/**
 * One line per row with a value; a cell's value is its `<v>` or, for inline strings, its `<is><t>`.
 * Cells stop being kept once `room` characters were: a shared string is stored once but can be
 * referenced by every cell (a 20-byte `<c t="s"><v>0</v></c>`), so the text, unlike the XML, is
 * not bounded by the inflate budget. Returns the characters kept.
 */
export function sheetXmlToLines(xml: string, strings: string[], lines: string[], room: number): number {
  let cells: string[] = [];
  let type = '';
  let value = '';
  let inValue = false;
  let used = 0;
  const endRow = () => {
    while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop();
    if (cells.length > 0) lines.push(cells.join('\t'));
    cells = [];
  };
  const endCell = () => {
    if (used > room) return;
    const text = cellText(type, value, strings).trim();
    cells.push(text);
    used += text.length + 1;
  };
  scanXml(
    xml,
    ({ name, tag, selfClosing }) => {
      const n = local(name);
      if (n === 'c') {
        type = attribute(tag, 't') ?? 'n';
        value = '';
        if (selfClosing && used <= room) cells.push('');
      } else if (n === '/c') endCell();
      else if (n === 'v' || (n === 't' && type === 'inlineStr')) inValue = !selfClosing;
      else if (n === '/v' || n === '/t') inValue = false;
      else if (n === '/row') endRow();
    },
    (raw) => {
      if (inValue) value += decodeXmlText(raw);
    },
  );
  endRow();
  return used;
}

/** `chars`: the characters kept; sheets past them are not read (and it sets the inflate budget). */
export async function extractXlsx(filename: string, bytes: Uint8Array, chars: number): Promise<string> {
  const zip = openZip(filename, 'Excel workbook', bytes, chars);
  const workbook = await requireXml(zip, WORKBOOK);
  const sheets = await listedParts(zip, workbook, WORKBOOK, 'sheet', 'xl/worksheets/sheet', MAX_SHEETS);
  const strings = sharedStrings((await readXml(zip, SHARED_STRINGS)) ?? '');
  const lines: string[] = [];
  let length = 0;
  for (const [index, sheet] of sheets.entries()) {
    if (length > chars) break;
    // Chart sheets and dialog sheets are listed too, but hold no cells.
    if (!sheet.name.startsWith('xl/worksheets/')) continue;
    const xml = await readXml(zip, sheet.name);
    if (xml === undefined) continue;
    const rows: string[] = [];
    sheetXmlToLines(xml, strings, rows, chars - length);
    // An empty sheet adds nothing, not even its heading: a workbook of empty sheets has no text.
    if (rows.length === 0) continue;
    lines.push(`# ${(sheet.label ?? `Sheet ${index + 1}`).replace(/\s+/g, ' ').trim()}`);
    for (const row of rows) {
      lines.push(row);
      length += row.length + 1;
    }
  }
  return lines.join('\n');
}
