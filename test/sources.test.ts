/**
 * Knowledge sources (issue 17): documents a persona knows, ingested on the queue (R2 + Queues run
 * locally in workerd), chunked and indexed in Postgres, and retrieved on every USER turn.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { queryTerms } from '../src/db/queries/retrieval';
import { knowledgeQueue as queue, SOURCE_DEAD_LETTER_QUEUE } from '../src/services/knowledge-queue';
import { chunkPages } from '../src/sources/chunk';
import { ingestSource } from '../src/sources/ingest';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { metadataOf } from './helpers/chat';
import { docxFixture, officeFixture } from './helpers/docx-fixtures';
import { base64, officeZip, repeated, zipWith } from './helpers/docx-zip';
import { createPersona, createSession, marker, modelRequests } from './helpers/factories';
import { flateBombPdf, nestedFormsPdf, textThenFormsPdf, toBase64 } from './helpers/hostile-pdf';
import { type PdfFixtureEntry, pdfFixture, pdfFixtures } from './helpers/pdf-fixtures';

const LARGE = 'large-117-pages_GeoTopo-komprimiert.pdf';

type Source = {
  id: string;
  attempts: number;
  status: 'PENDING' | 'READY' | 'FAILED';
  error: { code: string; message: string } | null;
  pageCount: number | null;
  pagesIndexed: number | null;
  chunkCount: number;
  chunks?: { ordinal: number; pageStart: number | null; pageEnd: number | null; text: string }[];
};

function add(
  tenant: Tenant,
  personaId: string,
  filename: string,
  mimeType: string,
  data64: string,
  envOverrides?: Record<string, string>,
) {
  return mutate(
    'source.add',
    { personaId, filename, mimeType, data: data64 },
    { tenant, ...(envOverrides ? { env: envOverrides } : {}) },
  );
}

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/** Polls source.get until the queue has finished with the source (generous: the machine is shared). */
async function settled(tenant: Tenant, id: string, timeoutMs = 90_000): Promise<Source> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const source = data<Source>(await query('source.get', { id }, { tenant }));
    if (source.status !== 'PENDING') return source;
    if (Date.now() > deadline) throw new Error(`source ${id} still PENDING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function chunkRows(sourceId: string): Promise<number> {
  const result = await createDb(env).execute(
    sql`select count(*)::integer as n from knowledge_chunks where source_id = ${sourceId}`,
  );
  return Number(result.rows[0]?.n);
}

describe('knowledge sources', () => {
  let tenant: Tenant;
  let personaId: string;

  beforeAll(async () => {
    tenant = await createTenant('Knowledge org');
    personaId = (await createPersona(tenant, { name: 'Geometry tutor' })).id;
  });

  it('ingests the 117-page PDF on the queue, and a question about page 88 reaches that passage and cites it', {
    timeout: 180_000,
  }, async () => {
    const added = data<Source>(await add(tenant, personaId, LARGE, 'application/pdf', pdfFixture(LARGE)));
    expect(added.status).toBe('PENDING');
    const source = await settled(tenant, added.id, 150_000);
    expect(source.error).toBeNull();
    expect(source.status).toBe('READY');
    expect(source.pageCount).toBe(117);
    expect(source.pagesIndexed).toBe(117);
    expect(source.chunkCount).toBeGreaterThan(117);
    expect(await chunkRows(source.id)).toBe(source.chunkCount);

    const session = await createSession(tenant, personaId);
    const mark = marker('kn');
    // "L’Hospital" appears on page 88 of the PDF only (checked against the extracted text of every page).
    const reply = data(
      await mutate(
        'chat.sendMessage',
        {
          chatSessionId: session.id,
          content: `Was folgt mit der Regel von L'Hospital für das Doppelverhältnis DV? ${mark}`,
        },
        { tenant },
      ),
    );
    const [request] = await modelRequests(mark);
    expect(request, 'the model was called').toBeDefined();
    const prompt = JSON.stringify(request?.body);
    expect(prompt).toContain('Mit der Regel von L’Hospital folgt, dass in diesem Fall DV(z1, . . . , z4) = ∞ gilt.');
    expect(prompt).toMatch(
      /<source-[0-9a-f]{16,64} filename=\\"large-117-pages_GeoTopo-komprimiert.pdf\\" pages=\\"(87-)?88\\">/,
    );
    const used = metadataOf(reply).knowledge.used as {
      sourceId: string;
      filename: string;
      pages: number[];
      score: number;
    }[];
    expect(used.length).toBeGreaterThan(0);
    expect(used[0]).toMatchObject({ sourceId: source.id, filename: LARGE });
    expect(used[0]?.pages).toContain(88);
    expect(used[0]?.score).toBeGreaterThan(0);
  });

  it('gives every fixture PDF its manifest outcome as the source status, with no chunks on failure', {
    timeout: 180_000,
  }, async () => {
    const org = await createTenant('Knowledge corpus org');
    const persona = (await createPersona(org)).id;
    const expected: Record<PdfFixtureEntry['expect'], { status: string; code: string | null }> = {
      text: { status: 'READY', code: null },
      'no-text': { status: 'FAILED', code: 'NO_TEXT' },
      password: { status: 'FAILED', code: 'PASSWORD_PROTECTED' },
      error: { status: 'FAILED', code: 'UNREADABLE' },
    };
    const entries = pdfFixtures().manifest.filter((e) => e.file !== LARGE);
    expect(entries.length).toBeGreaterThanOrEqual(10);
    const ids = new Map<string, string>();
    for (const entry of entries) {
      const res = await add(org, persona, entry.file, 'application/pdf', pdfFixture(entry.file));
      ids.set(entry.file, data<Source>(res).id);
    }
    for (const entry of entries) {
      const id = ids.get(entry.file) ?? '';
      const source = await settled(org, id);
      const want = expected[entry.expect];
      expect({ file: entry.file, status: source.status, code: source.error?.code ?? null }).toEqual({
        file: entry.file,
        status: want.status,
        code: want.code,
      });
      if (source.status === 'READY') {
        expect(source.chunkCount, entry.file).toBeGreaterThan(0);
        const withChunks = data<Source>(await query('source.get', { id, includeChunks: true }, { tenant: org }));
        const firstLine = (entry.snippet ?? '').split('\n')[0] ?? '';
        if (entry.snippet && entry.pages !== null) expect(withChunks.chunks?.[0]?.pageStart).toBe(1);
        expect(
          withChunks.chunks
            ?.map((c) => c.text)
            .join('\n')
            .replace(/\s+/g, ' '),
        ).toContain(firstLine.replace(/\s+/g, ' ').slice(0, 20));
      } else {
        expect(source.error?.message.length, entry.file).toBeGreaterThan(10);
        expect(source.chunkCount).toBe(0);
        expect(await chunkRows(id), `${entry.file} has no chunks`).toBe(0);
      }
    }
  });

  it('lists, gets and deletes; deleting removes the chunks', async () => {
    const text = `# Returns\nItems can be returned within 30 days.\n\n# Warranty\nThe zorbulator warranty lasts 7 years.`;
    const added = data<Source>(await add(tenant, personaId, 'policy.md', 'text/markdown', b64(text)));
    const source = await settled(tenant, added.id);
    expect(source.status).toBe('READY');
    expect(source.pageCount).toBeNull();
    const listed = data<Source[]>(await query('source.list', { personaId }, { tenant }));
    expect(listed.map((s) => s.id)).toContain(source.id);
    expect(await chunkRows(source.id)).toBeGreaterThan(0);
    expect(data(await mutate('source.delete', { id: source.id }, { tenant }))).toEqual({
      id: source.id,
      deleted: true,
    });
    expect(await chunkRows(source.id)).toBe(0);
    expect((await query('source.get', { id: source.id }, { tenant })).status).toBe(404);
    expect((await mutate('source.delete', { id: source.id }, { tenant })).status).toBe(404);
  });

  it('refuses bad input and passes limits with clear 4xx, storing nothing', async () => {
    const org = await createTenant('Knowledge limits org');
    const persona = (await createPersona(org)).id;
    const count = async () =>
      data<Source[]>(await query('source.list', { personaId: persona }, { tenant: org })).length;
    // Legacy Word (.doc) is not read; .docx is (below).
    const bad = await add(org, persona, 'x.doc', 'application/msword', b64('legacy'));
    expect(bad.status).toBe(415);
    expect(JSON.stringify(bad.body)).toContain('wordprocessingml');
    expect((await add(org, persona, 'x.txt', 'text/plain', '###')).status).toBe(400);
    expect((await add(org, persona, 'x.txt', 'text/plain', '')).status).toBe(400);
    expect((await add(org, 'persona_nope', 'x.txt', 'text/plain', b64('hi'))).status).toBe(404);
    const big = await add(org, persona, 'x.txt', 'text/plain', b64('x'.repeat(100)), { SOURCE_MAX_BYTES: '50' });
    expect(big.status).toBe(413);
    expect(JSON.stringify(big.body)).toContain('limit is 50 bytes per source');
    expect(await count()).toBe(0);
    expect(data<Source>(await add(org, persona, 'a.txt', 'text/plain', b64('first'))).status).toBe('PENDING');
    const many = await add(org, persona, 'b.txt', 'text/plain', b64('second'), { SOURCES_MAX_PER_PERSONA: '1' });
    expect(many.status).toBe(409);
    expect(JSON.stringify(many.body)).toContain('limit is 1 per persona');
    const total = await add(org, persona, 'c.txt', 'text/plain', b64('third!'), { SOURCES_MAX_TOTAL_BYTES: '8' });
    expect(total.status).toBe(413);
    expect(JSON.stringify(total.body)).toContain('limit of 8 bytes');
    expect(await count()).toBe(1);
  });

  it('bounds ingestion: SOURCE_MAX_PAGES and SOURCE_MAX_CHARS stop reading and are reported', async () => {
    const db = createDb(env);
    const put = async (file: string, bytes: Uint8Array, mimeType: string) => {
      const id = `src_bound_${crypto.randomUUID().slice(0, 8)}`;
      const key = `${tenant.organizationId}/${id}`;
      await env.SOURCE_BLOBS?.put(key, bytes);
      await db.execute(sql`insert into knowledge_sources
        (id, organization_id, persona_id, filename, mime_type, byte_size, sha256, blob_key)
        values (${id}, ${tenant.organizationId}, ${personaId}, ${file}, ${mimeType}, ${bytes.length}, 'x', ${key})`);
      return id;
    };
    const paper = 'multipage-paper_tracemonkey.pdf';
    const pdfBytes = Uint8Array.from(atob(pdfFixture(paper)), (c) => c.charCodeAt(0));
    const pdfId = await put(paper, pdfBytes, 'application/pdf');
    const job = (sourceId: string) => ({ organizationId: tenant.organizationId, sourceId });
    expect(await ingestSource(db, { ...env, SOURCE_MAX_PAGES: '3' }, job(pdfId))).toBe('READY');
    const pdf = data<Source>(
      await query('source.get', { id: pdfId, includeChunks: true, chunksLimit: 100 }, { tenant }),
    );
    expect(pdf).toMatchObject({ pageCount: 14, pagesIndexed: 3 });
    expect(Math.max(...(pdf.chunks ?? []).map((c) => c.pageEnd ?? 0))).toBe(3);
    // One huge line without spaces: cut to the character limit and into bounded pieces.
    const hostile = new TextEncoder().encode('x'.repeat(300_000));
    const textId = await put('wall.txt', hostile, 'text/plain');
    expect(await ingestSource(db, { ...env, SOURCE_MAX_CHARS: '5000' }, job(textId))).toBe('READY');
    const wall = data(await query('source.get', { id: textId }, { tenant }));
    expect(wall.charCount).toBe(5000);
    expect(wall.chunkCount).toBeLessThanOrEqual(6);
    // A second delivery of a finished job writes nothing.
    expect(await ingestSource(db, env, job(textId))).toBe('SKIPPED');
    expect(await chunkRows(textId)).toBe(wall.chunkCount);
  });

  it('retries a job whose storage fails, and the dead-letter queue marks the source FAILED', async () => {
    // A PENDING source with no job on the real queue, so only the deliveries below touch it.
    const sourceId = `src_retry_${crypto.randomUUID().slice(0, 8)}`;
    await createDb(env).execute(sql`insert into knowledge_sources
      (id, organization_id, persona_id, filename, mime_type, byte_size, sha256, blob_key)
      values (${sourceId}, ${tenant.organizationId}, ${personaId}, 'later.txt', 'text/plain', 5, 'x', ${`${tenant.organizationId}/${sourceId}`})`);
    const job = { organizationId: tenant.organizationId, sourceId };
    // As if R2 were down: ingestion throws, the message is retried rather than acked.
    const failing = {
      ...env,
      SOURCE_BLOBS: { get: () => Promise.reject(new Error('R2 unavailable')) } as unknown as R2Bucket,
    };
    const batch = createMessageBatch('knowledge-ingest', [{ id: 'm1', timestamp: new Date(), attempts: 1, body: job }]);
    const ctx = createExecutionContext();
    await queue(batch, failing, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(['m1']);
    expect(result.explicitAcks).toEqual([]);
    const pending = data<Source>(await query('source.get', { id: sourceId }, { tenant }));
    expect(pending).toMatchObject({ status: 'PENDING', attempts: 1, chunkCount: 0 });
    // The job's retries ran out: its dead-letter delivery reports the failure on the source.
    const dead = createMessageBatch(SOURCE_DEAD_LETTER_QUEUE, [
      { id: 'm2', timestamp: new Date(), attempts: 1, body: job },
    ]);
    const ctx2 = createExecutionContext();
    await queue(dead, env, ctx2);
    expect((await getQueueResult(dead, ctx2)).explicitAcks).toEqual(['m2']);
    const source = data<Source>(await query('source.get', { id: sourceId }, { tenant }));
    expect(source.status).toBe('FAILED');
    expect(source.error?.code).toBe('INGESTION_FAILED');
    expect(await chunkRows(sourceId)).toBe(0);
  });
});

describe('Word documents as sources', () => {
  const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

  it('reads real .docx files (mammoth.js test data) and retrieves from them like a PDF', {
    timeout: 120_000,
  }, async () => {
    const org = await createTenant('Docx org');
    const persona = (await createPersona(org)).id;
    const ids: Record<string, string> = {};
    for (const name of ['single-paragraph.docx', 'tables.docx', 'simple-list.docx', 'empty.docx']) {
      ids[name] = data<Source>(await add(org, persona, name, DOCX, docxFixture(name))).id;
    }
    const text = async (name: string) => {
      const s = await settled(org, ids[name] ?? '');
      expect(s.status, name).toBe('READY');
      const got = data<Source>(await query('source.get', { id: s.id, includeChunks: true }, { tenant: org }));
      return got.chunks?.map((c) => c.text).join('\n');
    };
    expect(await text('single-paragraph.docx')).toBe('Walking on imported air');
    expect(await text('tables.docx')).toBe('Above\nTop left\nTop right\nBottom left\nBottom right\nBelow');
    expect(await text('simple-list.docx')).toBe('Apple\nBanana');
    const empty = await settled(org, ids['empty.docx'] ?? '');
    expect(empty).toMatchObject({ status: 'FAILED', error: { code: 'NO_TEXT' } });

    const session = await createSession(org, persona);
    const mark = marker('docx');
    const reply = data(
      await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: `What was walked on, imported? ${mark}` },
        { tenant: org },
      ),
    );
    expect(JSON.stringify((await modelRequests(mark))[0]?.body)).toContain('Walking on imported air');
    expect(metadataOf(reply).knowledge.used[0]).toMatchObject({ filename: 'single-paragraph.docx', pages: null });
  });

  it('stops inflating a ZIP bomb at the limit, and refuses what is not a Word file', { timeout: 60_000 }, async () => {
    const org = await createTenant('Docx bomb org');
    const persona = (await createPersona(org)).id;
    // 64 MiB of the same paragraph deflates to well under 1 MiB; the archive claims 1 KiB.
    const paragraph = new TextEncoder().encode('<w:p><w:r><w:t>boom</w:t></w:r></w:p>');
    const xml = new Uint8Array(64 * 1024 * 1024);
    for (let i = 0; i + paragraph.length <= xml.length; i += paragraph.length) xml.set(paragraph, i);
    const bomb = await zipWith(xml, true);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const bombId = data<Source>(await add(org, persona, 'bomb.docx', DOCX, base64(bomb))).id;
    const notZip = data<Source>(await add(org, persona, 'fake.docx', DOCX, b64('just text'))).id;
    const small = await zipWith(new TextEncoder().encode('<w:p><w:t>Stored &amp; fine</w:t></w:p>'), false);
    const storedId = data<Source>(await add(org, persona, 'stored.docx', DOCX, base64(small))).id;
    const b = await settled(org, bombId);
    expect(b).toMatchObject({ status: 'FAILED', error: { code: 'UNREADABLE' } });
    expect(b.error?.message).toContain('expands to more than 16000000 bytes');
    expect(await settled(org, notZip)).toMatchObject({ status: 'FAILED', error: { code: 'UNREADABLE' } });
    const stored = data<Source>(
      await query('source.get', { id: (await settled(org, storedId)).id, includeChunks: true }, { tenant: org }),
    );
    expect(stored.chunks?.[0]?.text).toBe('Stored & fine');
  });
});

describe('Excel and PowerPoint files as sources', () => {
  const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
  /** Each fixture's text as read (checked by hand against the files: test/fixtures/office/README.md). */
  const EXPECTED: Record<string, string> = {
    'gold.xlsx':
      '# Values\nText\tI am Text\nNumber\t3.14\nInteger\t5\nDate\t42507\nFormula\tI am Text\nHyperlink\texceljs',
    // The chart sheet listed first has no cells; the worksheet after it is named from the workbook.
    'chart-sheet.xlsx':
      '# Sheet1\nMonth\tBears\tDolphins\tWhales\nJan\t8\t150\t80\nFeb\t54\t77\t54\nMar\t93\t32\t100\nApr\t116\t11\t76\nMay\t137\t6\t93\nJun\t184\t1\t72',
    'test-issue-1575.xlsx': '# Sheet1\nA\tB\tC\n1.0\t2.0\t3.0\n4.0\t5.0\t6.0',
    'simple.pptx':
      '# Slide 1\nTitle Slide\nWith a subtitle\n# Slide 2\nThings to think about\nHow much is enough?\nIf not now when?\nWhere have all the flowers gone?\nWho do you think you are?\nWhat were you thinking?',
    'txt-text.pptx': '# Slide 1\nFoo Bar\nBaz Zoo\n1\nyahoo.com\nabc\na\nb\nc\n# Slide 2\nText run in table cell',
  };

  it('reads real .xlsx and .pptx files (exceljs, python-pptx, unstructured test data) and retrieves from them', {
    timeout: 120_000,
  }, async () => {
    const org = await createTenant('Office org');
    const persona = (await createPersona(org)).id;
    const ids: Record<string, string> = {};
    for (const name of [...Object.keys(EXPECTED), 'sample-presentation.pptx']) {
      ids[name] = data<Source>(
        await add(org, persona, name, name.endsWith('.xlsx') ? XLSX : PPTX, officeFixture(name)),
      ).id;
    }
    const text = async (name: string) => {
      const s = await settled(org, ids[name] ?? '');
      expect(s.error, name).toBeNull();
      expect(s.status, name).toBe('READY');
      const got = data<Source>(await query('source.get', { id: s.id, includeChunks: true }, { tenant: org }));
      return got.chunks?.map((c) => c.text).join('\n');
    };
    for (const [name, expected] of Object.entries(EXPECTED)) expect(await text(name), name).toBe(expected);
    // Longer: chunked at its slide headings (with overlap), so read piece by piece.
    const sample = await text('sample-presentation.pptx');
    for (const piece of [
      '# Slide 1\nTitle Slide\nWith a subtitle',
      'This is the first content slide\nThere’s text here\nAnd a list of bulleted information\nWith a sub-bullet',
      '# Slide 4\nThis is kinda backwards, huh?\nTable\nA\nB\nC\n1\nA1\nB1\nC1\n2\nA2\nB2\nC2',
    ]) {
      expect(sample).toContain(piece);
    }

    const session = await createSession(org, persona);
    const ask = async (question: string) => {
      const mark = marker('office');
      const reply = data(
        await mutate(
          'chat.sendMessage',
          { chatSessionId: session.id, content: `${question} ${mark}` },
          { tenant: org },
        ),
      );
      return { prompt: JSON.stringify((await modelRequests(mark))[0]?.body), used: metadataOf(reply).knowledge.used };
    };
    const whales = await ask('How many Dolphins and Whales were counted in March?');
    expect(whales.prompt).toContain('Mar\\t93\\t32\\t100');
    expect(whales.used[0]).toMatchObject({ filename: 'chart-sheet.xlsx', pages: null });
    const flowers = await ask('Where have all the flowers gone?');
    expect(flowers.prompt).toContain('Where have all the flowers gone?');
    expect(flowers.used[0]).toMatchObject({ filename: 'simple.pptx', pages: null });
  });

  it('stops inflating a ZIP bomb at the limit, and refuses what is not a workbook or a presentation', {
    timeout: 60_000,
  }, async () => {
    const org = await createTenant('Office bomb org');
    const persona = (await createPersona(org)).id;
    // 64 MiB of cells deflates to well under 1 MiB; the archive claims 1 KiB.
    const cells = repeated(
      '<worksheet><sheetData><row>',
      '<c><v>1</v></c>',
      64 * 1024 * 1024,
      '</row></sheetData></worksheet>',
    );
    const bomb = data<Source>(
      await add(org, persona, 'bomb.xlsx', XLSX, base64(await officeZip('xlsx', [cells], true))),
    ).id;
    const word = data<Source>(await add(org, persona, 'word.pptx', PPTX, docxFixture('tables.docx'))).id;
    const notZip = data<Source>(await add(org, persona, 'fake.xlsx', XLSX, b64('just text'))).id;
    const empty = await officeZip('xlsx', [new TextEncoder().encode('<worksheet><sheetData/></worksheet>')], false);
    const emptyId = data<Source>(await add(org, persona, 'empty.xlsx', XLSX, base64(empty))).id;
    const b = await settled(org, bomb);
    expect(b).toMatchObject({ status: 'FAILED', error: { code: 'UNREADABLE' } });
    expect(b.error?.message).toContain('expands to more than 16000000 bytes');
    const w = await settled(org, word);
    expect(w).toMatchObject({ status: 'FAILED', error: { code: 'UNREADABLE' } });
    expect(w.error?.message).toContain('it has no ppt/presentation.xml');
    expect(await settled(org, notZip)).toMatchObject({ status: 'FAILED', error: { code: 'UNREADABLE' } });
    expect(await settled(org, emptyId)).toMatchObject({ status: 'FAILED', error: { code: 'NO_TEXT' } });
  });
});

describe('chunking and query terms', () => {
  it('chunks by page with overlap, starting a chunk at a heading', () => {
    const page = (n: number) =>
      `${n}.1 Section ${n}\n${'word '.repeat(300)}\n${n}.2 Another Heading\n${'more '.repeat(300)}`;
    const chunks = chunkPages([page(1), page(2)], true);
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.every((c) => c.text.length <= 1_200 + 220)).toBe(true);
    expect(chunks.some((c) => c.heading === '1.2 Another Heading')).toBe(true);
    const secondPage = chunks.find((c) => c.pageEnd === 2);
    expect(secondPage?.pageStart).toBe(1); // carried overlap from page 1
    expect(chunks.filter((c) => c.pageEnd === 1).every((c) => c.pageStart === 1)).toBe(true);
  });

  it('builds bounded, operator-free queries from any text', () => {
    expect(queryTerms('What is the zorbulator warranty? (|& !:*)')).toBe('zorbulator | warranty');
    expect(queryTerms('a | b & c')).toBeNull();
    const many = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    expect(queryTerms(many)?.split(' | ').length).toBe(32);
  });
});

describe('hostile PDFs as sources: the queue reads with a budget too', () => {
  // Ingestion has its own, larger budget (SOURCE_PDF_MAX_OPERATIONS / SOURCE_PDF_MAX_MS), and the
  // same stream limits as a request: a file built to burn CPU or memory costs the queue no more.
  it('keeps the pages read before the budget ran out (READY, pagesIndexed short), refuses files spent on page 1 or past the stream limits (TOO_LARGE)', {
    timeout: 180_000,
  }, async () => {
    const org = await createTenant('Hostile sources org');
    const persona = (await createPersona(org, { name: 'Hostile sources' })).id;
    const pdf = 'application/pdf';
    const textFirst = textThenFormsPdf({ textPages: 3, depth: 6, fanOut: 10 });
    const ids = {
      textFirst: data<Source>(await add(org, persona, 'text-then-forms.pdf', pdf, toBase64(textFirst))).id,
      forms: data<Source>(await add(org, persona, 'forms.pdf', pdf, toBase64(nestedFormsPdf({ depth: 6, fanOut: 10 }))))
        .id,
      bomb: data<Source>(await add(org, persona, 'bomb.pdf', pdf, toBase64(await flateBombPdf(256 * 1024 * 1024)))).id,
    };
    const partial = await settled(org, ids.textFirst);
    expect(partial).toMatchObject({ status: 'READY', pageCount: 4 });
    const withChunks = data<Source>(
      await query('source.get', { id: ids.textFirst, includeChunks: true }, { tenant: org }),
    );
    const text = (withChunks.chunks ?? []).map((c) => c.text).join('\n');
    expect(text).toMatch(/Page 1[\s\S]*Page 2[\s\S]*Page 3/);
    // Unbounded, the forms page would be a million x's; the budget stopped it.
    expect(text.length).toBeLessThan(200_000);
    const forms = await settled(org, ids.forms);
    expect(forms).toMatchObject({ status: 'FAILED', error: { code: 'TOO_LARGE' }, chunkCount: 0 });
    expect(forms.error?.message).toMatch(
      /forms\.pdf" is refused: its first page (needs more than \d+ drawing operations|took longer)/,
    );
    const bomb = await settled(org, ids.bomb);
    expect(bomb).toMatchObject({ status: 'FAILED', error: { code: 'TOO_LARGE' }, chunkCount: 0 });
    expect(bomb.error?.message).toMatch(/decompresses to more than 8 MiB/);
  });
});
