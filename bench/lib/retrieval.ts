/**
 * Retrieval quality (issue 17): the fixture PDFs with text are added as one persona's knowledge
 * sources through the API (queue ingestion included), then each question is sent as a USER turn and
 * the reply's `metadata.knowledge.used` (the passages the model got, best first) is checked for the
 * page that answers it. recall@5: the share of questions whose page is among the first 5 passages.
 * Questions are written from the documents' own text (the answer page's wording), deep pages included.
 * Which retrieval ran depends on the deployment: hybrid (full-text + vectors, fused by reciprocal rank
 * fusion) where pgvector exists and EMBEDDINGS is on, full-text otherwise; `node bench/retrieval.ts`
 * runs both on PGlite (EMBEDDINGS=off, then on) and prints them side by side (comparisonTable).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { authHeaders, createTenant, trpcMutation, trpcQuery } from './api.ts';
import { fixturesDir } from './pdf.ts';
import { sleep } from './proc.ts';

const PAPER = 'multipage-paper_tracemonkey.pdf';
const GEO = 'large-117-pages_GeoTopo-komprimiert.pdf';
const LOREM = 'simple-onepage_minimal-document.pdf';

/** Question → the file and (1-based PDF) page whose text answers it. */
export const QUESTIONS: { file: string; page: number; question: string; reworded?: boolean }[] = [
  { file: PAPER, page: 2, question: 'How does the VM record a trace tree covering all the hot paths through a loop?' },
  { file: PAPER, page: 5, question: 'Which two representations for numbers does TraceMonkey support?' },
  { file: PAPER, page: 8, question: 'What does the constant folding filter do in the forward filter pipeline?' },
  { file: PAPER, page: 11, question: 'How many times faster than the SpiderMonkey interpreter is the best benchmark?' },
  { file: PAPER, page: 13, question: 'Which figure shows the fraction of time spent on major VM activities?' },
  { file: GEO, page: 10, question: 'Wann heißt eine Abbildung zwischen metrischen Räumen eine Isometrie?' },
  { file: GEO, page: 40, question: 'Welche Eulerzahl (Euler-Charakteristik) haben Ikosaeder und Oktaeder-Oberfläche?' },
  { file: GEO, page: 55, question: 'Was besagt der Satz von Seifert und van Kampen für den Torus?' },
  { file: GEO, page: 62, question: 'Wann heißt U eine Umgebungsbasis von x?' },
  { file: GEO, page: 70, question: 'Was fordern das Bewegungsaxiom und das Parallelenaxiom?' },
  {
    file: GEO,
    page: 75,
    question: 'Existenz der Parallelen: gibt es zu jeder Geraden und jedem Punkt eine Parallele?',
  },
  { file: GEO, page: 80, question: 'Wie ist der Fußpunkt des Lots von P auf g1 in der euklidischen Ebene definiert?' },
  { file: GEO, page: 88, question: "Was folgt mit der Regel von L'Hospital für das Doppelverhältnis?" },
  { file: GEO, page: 95, question: 'Was ist die Normalkrümmung von S in s in Richtung x?' },
  { file: GEO, page: 105, question: 'Wann heißt eine Abbildung zwischen Gruppen ein Homomorphismus?' },
  { file: GEO, page: 112, question: 'Was bezeichnen Homöomorphismengruppe, Isometriengruppe und Permutationsgruppe?' },
  { file: LOREM, page: 1, question: 'Lorem ipsum dolor sit amet, consetetur sadipscing elitr' },
  // Reworded: the answer page's words in other forms (plural, adjective, compound), as askers write
  // them; full-text (exact words, no stemming) finds fewer of them, the vector side shares stems.
  { file: GEO, page: 10, reworded: true, question: 'Welche Abbildungen metrischer Räume nennt man isometrisch?' },
  { file: GEO, page: 62, reworded: true, question: 'Was ist eine Basis der Umgebungen eines Punktes?' },
  { file: GEO, page: 105, reworded: true, question: 'Wann ist eine Abbildung von Gruppen homomorph?' },
  { file: PAPER, page: 5, reworded: true, question: 'Is a numeric value represented as an integer or a double?' },
];

export type RetrievalRow = { file: string; questions: number; hits: number; recallAt5: number };
export type RetrievalResult = {
  rows: RetrievalRow[];
  overall: RetrievalRow;
  /** The reworded questions alone (they are counted in their documents' rows and overall too). */
  reworded: RetrievalRow;
  ingestMs: number;
  misses: string[];
};

type Used = { sourceId: string; filename: string; pages: number[] | null; score: number };

export async function measureRetrieval(base: string): Promise<RetrievalResult> {
  const tenant = await createTenant(base, 'bench: retrieval');
  const headers = authHeaders(tenant, tenant.apiKey);
  const manifest = JSON.parse(readFileSync(join(fixturesDir, 'MANIFEST.json'), 'utf8')) as {
    file: string;
    expect: string;
  }[];
  const started = performance.now();
  const ids: string[] = [];
  // Every fixture with text is a source of the same persona: the others are distractors.
  for (const entry of manifest.filter((e) => e.expect === 'text')) {
    const data = readFileSync(join(fixturesDir, entry.file)).toString('base64');
    const source = await trpcMutation(base, headers, 'source.add', {
      personaId: tenant.personaId,
      filename: entry.file,
      mimeType: 'application/pdf',
      data,
    });
    ids.push(source.id);
  }
  for (const id of ids) {
    const deadline = performance.now() + 300_000;
    for (;;) {
      const source = await trpcQuery(base, headers, 'source.get', { id });
      if (source.status === 'READY') break;
      if (source.status === 'FAILED') throw new Error(`source ${source.filename} FAILED: ${source.error?.message}`);
      if (performance.now() > deadline) throw new Error(`source ${id} still PENDING after 300 s`);
      await sleep(250);
    }
  }
  const ingestMs = performance.now() - started;
  const session = await trpcMutation(base, headers, 'chat.createSession', { personaId: tenant.personaId });
  const byFile = new Map<string, RetrievalRow>();
  const misses: string[] = [];
  const reworded: RetrievalRow = { file: 'reworded', questions: 0, hits: 0, recallAt5: 0 };
  for (const q of QUESTIONS) {
    const reply = await trpcMutation(base, headers, 'chat.sendMessage', {
      chatSessionId: session.id,
      content: q.question,
    });
    const used = ((reply.metadata?.knowledge?.used ?? []) as Used[]).slice(0, 5);
    const hit = used.some((u) => u.filename === q.file && (u.pages ?? [1]).includes(q.page));
    const row = byFile.get(q.file) ?? { file: q.file, questions: 0, hits: 0, recallAt5: 0 };
    row.questions++;
    if (hit) row.hits++;
    if (q.reworded) {
      reworded.questions++;
      if (hit) reworded.hits++;
    }
    if (!hit) {
      const got = used.map((u) => `${u.filename.slice(0, 12)} ${u.pages?.join('-')}`).join(', ');
      misses.push(`${q.file} p.${q.page}${q.reworded ? ' (reworded)' : ''}: got ${got}`);
    }
    byFile.set(q.file, row);
  }
  const rows = [...byFile.values()].map((r) => ({ ...r, recallAt5: r.hits / r.questions }));
  const questions = rows.reduce((n, r) => n + r.questions, 0);
  const hits = rows.reduce((n, r) => n + r.hits, 0);
  reworded.recallAt5 = reworded.questions ? reworded.hits / reworded.questions : 0;
  return { rows, overall: { file: 'all', questions, hits, recallAt5: hits / questions }, reworded, ingestMs, misses };
}

export type AttachmentRetrieval = { questions: number; hits: number; firstTurnWaitMs: number; firstTurnHit: boolean };

/**
 * The same questions about the 117-page PDF, with the PDF sent as a message attachment instead of
 * a source (a persona without sources): the request reads it only up to its PDF budget (page 19 at
 * the defaults), the queue reads it whole while the first turn waits (metadata.knowledge.indexing),
 * and every later turn of the session retrieves from the whole file.
 */
export async function measureAttachmentRetrieval(base: string): Promise<AttachmentRetrieval> {
  const tenant = await createTenant(base, 'bench: attachment retrieval');
  const headers = authHeaders(tenant, tenant.apiKey);
  const session = await trpcMutation(base, headers, 'chat.createSession', { personaId: tenant.personaId });
  const data = readFileSync(join(fixturesDir, GEO)).toString('base64');
  // The page-88 question first: it comes with the file, and only the queue's whole read reaches it.
  const questions = QUESTIONS.filter((q) => q.file === GEO).sort(
    (a, b) => Number(b.page === 88) - Number(a.page === 88),
  );
  const result: AttachmentRetrieval = { questions: 0, hits: 0, firstTurnWaitMs: 0, firstTurnHit: false };
  for (const [i, q] of questions.entries()) {
    const reply = await trpcMutation(base, headers, 'chat.sendMessage', {
      chatSessionId: session.id,
      content: q.question,
      ...(i === 0 ? { attachments: [{ filename: GEO, mimeType: 'application/pdf', data }] } : {}),
    });
    const used = ((reply.metadata?.knowledge?.used ?? []) as Used[]).slice(0, 5);
    const hit = used.some((u) => u.filename === GEO && (u.pages ?? []).includes(q.page));
    result.questions++;
    if (hit) result.hits++;
    if (i === 0) {
      result.firstTurnWaitMs = Number(reply.metadata?.knowledge?.indexing?.waitedMs ?? 0);
      result.firstTurnHit = hit;
    }
  }
  return result;
}

export function attachmentRetrievalLine(r: AttachmentRetrieval): string {
  return `The 117-page PDF as a message attachment instead (${GEO}): recall@5 ${r.hits}/${r.questions} = ${(r.hits / r.questions).toFixed(2)}; the first turn (the page-88 question, sent with the file) waited ${(r.firstTurnWaitMs / 1000).toFixed(1)} s for the queue to read the file whole and ${r.firstTurnHit ? 'found' : 'missed'} its page.`;
}

/** The Markdown table `npm run bench` prints; `label` says which retrieval the deployment ran. */
export function retrievalTable(result: RetrievalResult, label = 'full-text or hybrid (see the database)'): string {
  const line = (r: RetrievalRow) => `| ${r.file} | ${r.questions} | ${r.hits} | ${r.recallAt5.toFixed(2)} |`;
  return [
    `Retrieval recall@5, ${label}, ${result.overall.questions} questions; all text fixtures ingested through the queue in ${(result.ingestMs / 1000).toFixed(1)} s`,
    '',
    '| document | questions | found in top 5 | recall@5 |',
    '|---|---|---|---|',
    ...result.rows.map(line),
    line({ ...result.overall, file: '**overall**' }),
    line({ ...result.reworded, file: 'of which reworded questions' }),
    ...(result.misses.length ? ['', 'Misses:', ...result.misses.map((m) => `- ${m}`)] : []),
  ].join('\n');
}

/** Full-text only and hybrid side by side, per document and overall (`node bench/retrieval.ts`). */
export function comparisonTable(fullText: RetrievalResult, hybrid: RetrievalResult, embeddingCalls: number): string {
  const byFile = new Map(hybrid.rows.map((r) => [r.file, r]));
  const cell = (r: RetrievalRow | undefined) => (r ? `${r.hits}/${r.questions} = ${r.recallAt5.toFixed(2)}` : '–');
  const misses = (label: string, list: string[]) =>
    list.length ? ['', `Misses (${label}):`, ...list.map((m) => `- ${m}`)] : [];
  return [
    `Retrieval recall@5 on PGlite, ${fullText.overall.questions} questions: full-text only (EMBEDDINGS=off) and hybrid (EMBEDDINGS=on: offline embedder through the local model server's /v1/embeddings, ${embeddingCalls} embedding calls). Ingestion ${(fullText.ingestMs / 1000).toFixed(1)} s full-text, ${(hybrid.ingestMs / 1000).toFixed(1)} s with embeddings.`,
    '',
    '| document | full-text recall@5 | hybrid recall@5 |',
    '|---|---|---|',
    ...fullText.rows.map((r) => `| ${r.file} | ${cell(r)} | ${cell(byFile.get(r.file))} |`),
    `| **overall** | ${cell(fullText.overall)} | ${cell(hybrid.overall)} |`,
    `| of which reworded questions | ${cell(fullText.reworded)} | ${cell(hybrid.reworded)} |`,
    ...misses('full-text', fullText.misses),
    ...misses('hybrid', hybrid.misses),
  ].join('\n');
}
