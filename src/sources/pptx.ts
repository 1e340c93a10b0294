import { listedParts, paragraphLines, type TextMarkup } from './xml';
import { openZip, readXml, requireXml } from './zip';

/**
 * Text of a PowerPoint (.pptx) presentation, without a dependency: `ppt/presentation.xml` lists the
 * slides in showing order (the numbers in `ppt/slides/slideN.xml` need not follow it), each slide's
 * text is in its `<a:t>` runs, one `<a:p>` paragraph per line, table cells included. Each slide
 * starts with a "# Slide N" line, so the chunker starts a chunk there. Speaker notes are separate
 * parts and are not read: they are the presenter's, not the audience's. All parts draw on one
 * inflate budget (src/sources/zip.ts).
 */
const PRESENTATION = 'ppt/presentation.xml';
/** Slides read at most; the inflate budget bounds the work anyway, this bounds the parts looked up. */
const MAX_SLIDES = 1_000;

/** DrawingML text: runs in paragraphs, in shapes and table cells alike. */
const DRAWING: TextMarkup = { text: 'a:t', paragraph: 'a:p', tab: 'a:tab', breaks: ['a:br'] };

/** `chars`: the characters kept; slides past them are not read (and it sets the inflate budget). */
export async function extractPptx(filename: string, bytes: Uint8Array, chars: number): Promise<string> {
  const zip = openZip(filename, 'PowerPoint presentation', bytes, chars);
  const presentation = await requireXml(zip, PRESENTATION);
  const slides = await listedParts(zip, presentation, PRESENTATION, 'p:sldId', 'ppt/slides/slide', MAX_SLIDES);
  const lines: string[] = [];
  let length = 0;
  for (const [index, slide] of slides.entries()) {
    if (length > chars) break;
    const xml = await readXml(zip, slide.name);
    if (xml === undefined) continue;
    const text = paragraphLines(xml, DRAWING);
    // A slide without text adds nothing; the others keep their number in the show.
    if (text.length === 0) continue;
    lines.push(`# Slide ${index + 1}`);
    for (const line of text) {
      lines.push(line);
      length += line.length + 1;
    }
  }
  return lines.join('\n');
}
