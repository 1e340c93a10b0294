import { paragraphLines, type TextMarkup } from './xml';
import { openZip, requireXml } from './zip';

/**
 * Text of a Word (.docx) file, without a dependency: a .docx is a ZIP whose `word/document.xml` holds
 * the text. Only that part is inflated, within the byte budget of src/sources/zip.ts (a zip bomb
 * costs no more). The XML is then read in one linear pass: paragraphs become lines, runs' text is
 * joined, tabs and breaks kept, and paragraphs styled as headings are marked "# " so the chunker
 * starts chunks there.
 */
const DOCUMENT = 'word/document.xml';

const WORD: TextMarkup = { text: 'w:t', paragraph: 'w:p', tab: 'w:tab', breaks: ['w:br', 'w:cr'], style: 'w:pStyle' };

/** Plain text of document.xml: one line per paragraph, "# " before heading paragraphs. */
export function documentXmlToText(xml: string): string {
  return paragraphLines(xml, WORD).join('\n');
}

/** `chars`: the characters kept, which set the inflate budget (see src/sources/zip.ts). */
export async function extractDocx(filename: string, bytes: Uint8Array, chars: number): Promise<string> {
  const zip = openZip(filename, 'Word document', bytes, chars);
  return documentXmlToText(await requireXml(zip, DOCUMENT));
}
