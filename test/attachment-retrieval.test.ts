/**
 * Issue 17: a session's own large attachments are chunked when sent and retrieved on every USER
 * turn with the persona's sources, so a passage past what fits the prompt still reaches the model.
 * And Word (.docx), Excel (.xlsx) and PowerPoint (.pptx) files are taken as message attachments, read
 * with the sources' bounded readers.
 */
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { createTenant, data, mutate, type Tenant } from './helpers/api';
import { metadataOf, sendWithAttachments } from './helpers/chat';
import { docxFixture, officeFixture } from './helpers/docx-fixtures';
import { base64, officeZip, repeated, zipWith } from './helpers/docx-zip';
import { createPersona, createSession, marker, modelRequests } from './helpers/factories';
import { pdfFixture } from './helpers/pdf-fixtures';

const LARGE = 'large-117-pages_GeoTopo-komprimiert.pdf';
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
// "L’Hospital" appears on page 88 of the PDF only: past what the prompt can take of the attachment.
const QUESTION = "Was folgt mit der Regel von L'Hospital für das Doppelverhältnis DV?";
const PASSAGE = 'Mit der Regel von L’Hospital folgt, dass in diesem Fall DV(z1, . . . , z4) = ∞ gilt.';

type Used = { sourceId?: string; attachmentId?: string; filename: string; pages: number[] | null; score: number };

async function chunksOf(attachmentId: string) {
  const result = await createDb(env).execute(
    sql`select count(*)::integer as n, min(chat_session_id) as session, bool_and(persona_id is null) as unowned,
          max(page_end)::integer as last_page
        from knowledge_chunks where attachment_id = ${attachmentId}`,
  );
  const row = result.rows[0] ?? {};
  return { n: Number(row.n), session: row.session as string | null, unowned: row.unowned, lastPage: row.last_page };
}

const send = sendWithAttachments;

/**
 * Reading a PDF sent with a message is bounded by the PDF work budget (PDF_MAX_OPERATIONS, default
 * 3,000,000): at the default this fixture is read up to page 19 inside the request (measured). The
 * rest is read on the knowledge-ingest queue, and the turn waits for it (ATTACHMENT_INDEX_WAIT_MS).
 */
async function attachmentRow(chatSessionId: string) {
  const result = await createDb(env).execute(
    sql`select a.id, a.truncated, a.index_status, length(a.text) as stored from attachments a
        join messages m on m.id = a.message_id where m.chat_session_id = ${chatSessionId}`,
  );
  const row = result.rows[0] ?? {};
  return { id: String(row.id), truncated: row.truncated, indexStatus: row.index_status, stored: Number(row.stored) };
}

describe('large message attachments are retrieved, not only truncated', () => {
  let tenant: Tenant;
  let personaId: string;

  beforeAll(async () => {
    tenant = await createTenant('Attachment retrieval org');
    // No knowledge sources: whatever is retrieved comes from the session's attachments.
    personaId = (await createPersona(tenant, { name: 'Geometry tutor' })).id;
  });

  it('the 117-page PDF sent as an attachment (default settings): a question about page 88 reaches that passage on the same turn, cited with the attachment id', {
    timeout: 180_000,
  }, async () => {
    const session = await createSession(tenant, personaId);
    const mark = marker('att');
    const reply = data(
      await send(tenant, session.id, `${QUESTION} ${mark}`, [
        { filename: LARGE, mimeType: 'application/pdf', data: pdfFixture(LARGE) },
      ]),
    );
    expect(reply.status).toBe('COMPLETE');
    const [request] = await modelRequests(mark);
    expect(request, 'the model was called').toBeDefined();
    const prompt = JSON.stringify(request?.body);
    expect(prompt).toContain(PASSAGE);
    expect(prompt).toMatch(
      /<source-[0-9a-f]{16,64} filename=\\"large-117-pages_GeoTopo-komprimiert.pdf\\" pages=\\"(87-)?88\\">/,
    );
    // The attachment itself is in the prompt only as far as the request read it (its beginning).
    expect(metadataOf(reply).context.attachmentsIncluded[0]).toMatchObject({ filename: LARGE });
    expect(prompt).not.toMatch(/<attachment-[0-9a-f]+ [^>]*>[^<]*L’Hospital folgt/);

    const sent = await attachmentRow(session.id);
    const attachmentId = sent.id;
    // The stored text is what the request read (capped at ATTACHMENT_MAX_CHARS) and does not reach
    // page 88; the queue indexed the whole file, and the turn waited for it.
    expect(sent).toMatchObject({ truncated: true, indexStatus: 'READY' });
    expect(sent.stored).toBeLessThanOrEqual(100_000);
    const indexing = metadataOf(reply).knowledge.indexing;
    expect(indexing).toMatchObject({ attachments: [attachmentId], pending: [] });
    expect(indexing?.waitedMs).toBeLessThan(30_000);
    // The bytes waited in R2 only until they were indexed.
    expect(
      await env.SOURCE_BLOBS?.list({ prefix: `attachments/${tenant.organizationId}/${attachmentId}` }),
    ).toMatchObject({
      objects: [],
    });
    const chunks = await chunksOf(attachmentId);
    expect(chunks.n).toBeGreaterThan(117);
    expect(chunks).toMatchObject({ session: session.id, unowned: true });
    expect(chunks.lastPage).toBeGreaterThanOrEqual(100);

    const used = metadataOf(reply).knowledge.used as Used[];
    expect(used.length).toBeGreaterThan(0);
    expect(used[0]).toMatchObject({ attachmentId, filename: LARGE });
    expect(used[0]?.sourceId).toBeUndefined();
    expect(used[0]?.pages).toContain(88);
    expect(used[0]?.score).toBeGreaterThan(0);

    // A later turn of the same session, without the attachment, still retrieves from it.
    const later = marker('att-later');
    const second = data(await send(tenant, session.id, `Nochmal: L'Hospital und das Doppelverhältnis? ${later}`));
    expect(JSON.stringify((await modelRequests(later))[0]?.body)).toContain(PASSAGE);
    expect((metadataOf(second).knowledge.used as Used[]).some((u) => u.attachmentId === attachmentId)).toBe(true);

    // Another session of the same persona (and organization) does not see this session's attachment.
    const other = await createSession(tenant, personaId);
    const elsewhere = marker('att-other');
    const third = data(await send(tenant, other.id, `${QUESTION} ${elsewhere}`));
    expect(JSON.stringify((await modelRequests(elsewhere))[0]?.body)).not.toContain('L’Hospital folgt');
    expect(metadataOf(third).knowledge.used).toEqual([]);

    // Deleting the session removes its chunks (foreign keys, on delete cascade).
    expect((await mutate('chat.deleteSession', { id: session.id }, { tenant })).status).toBe(200);
    expect((await chunksOf(attachmentId)).n).toBe(0);
  });

  it('with default settings, a passage past both the stored-text cap and the prompt is retrieved', {
    timeout: 60_000,
  }, async () => {
    const session = await createSession(tenant, personaId);
    // ~250,000 characters of plain text; the one sentence that answers sits at about 180,000,
    // past ATTACHMENT_MAX_CHARS (100,000 stored) and far past what the prompt takes.
    const line = (i: number) => `Record ${i}: routine maintenance of pump ${i % 97} was logged without findings.`;
    const lines = Array.from({ length: 3_400 }, (_, i) => line(i));
    lines.splice(2_400, 0, 'The zebrafish protocol requires exactly 42 millilitres of saline per tank.');
    const body = lines.join('\n');
    expect(body.length).toBeGreaterThan(240_000);
    expect(body.indexOf('zebrafish')).toBeGreaterThan(150_000);
    const mark = marker('deep');
    const reply = data(
      await send(tenant, session.id, `How much saline does the zebrafish protocol require? ${mark}`, [
        { filename: 'maintenance-log.txt', mimeType: 'text/plain', data: btoa(body) },
      ]),
    );
    const prompt = JSON.stringify((await modelRequests(mark))[0]?.body);
    expect(prompt).toContain('The zebrafish protocol requires exactly 42 millilitres of saline per tank.');
    expect(prompt).toMatch(/<source-[0-9a-f]{16,64} filename=\\"maintenance-log.txt\\">/);
    const used = metadataOf(reply).knowledge.used as Used[];
    expect(used[0]).toMatchObject({ filename: 'maintenance-log.txt', pages: null });
    expect(used[0]?.attachmentId).toMatch(/^att/);
  });

  it('an attachment that fits whole is not repeated as passages, and a small one is not chunked', {
    timeout: 60_000,
  }, async () => {
    const session = await createSession(tenant, personaId);
    // ~10,000 characters: chunked (over ATTACHMENT_CHUNK_MIN_CHARS), yet it fits the prompt whole.
    const body = Array.from({ length: 200 }, (_, i) => `Line ${i}: the quokka inventory lists item ${i}.`).join('\n');
    const mark = marker('whole');
    const reply = data(
      await send(tenant, session.id, `How many quokka items? ${mark}`, [
        { filename: 'inventory.txt', mimeType: 'text/plain', data: btoa(body) },
        { filename: 'small.txt', mimeType: 'text/plain', data: btoa('quokka notes, short') },
      ]),
    );
    const included = metadataOf(reply).context.attachmentsIncluded as { id: string; partial?: true }[];
    expect(included.map((a) => a.partial ?? false)).toEqual([false, false]);
    expect(metadataOf(reply).knowledge.used).toEqual([]);
    expect(JSON.stringify((await modelRequests(mark))[0]?.body)).not.toMatch(
      /<source-[0-9a-f]{16,64} filename=\\"inventory/,
    );
    const ids = await createDb(env).execute(
      sql`select a.id, a.filename from attachments a join messages m on m.id = a.message_id
          where m.chat_session_id = ${session.id} order by a.filename`,
    );
    const byName = Object.fromEntries(ids.rows.map((r) => [String(r.filename), String(r.id)]));
    expect((await chunksOf(byName['inventory.txt'] ?? '')).n).toBeGreaterThan(5);
    expect((await chunksOf(byName['small.txt'] ?? '')).n).toBe(0);
  });

  it('ATTACHMENT_MAX_INDEXED_CHARS bounds what is chunked, and 0 turns chunking off', { timeout: 60_000 }, async () => {
    const session = await createSession(tenant, personaId);
    const body = 'alpha beta gamma delta epsilon. '.repeat(1_000); // 32,000 characters
    const attach = (name: string) => [{ filename: name, mimeType: 'text/plain', data: btoa(body) }];
    const bounded = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'bounded', attachments: attach('bounded.txt') },
      { tenant, env: { ATTACHMENT_MAX_INDEXED_CHARS: '12000' } },
    );
    expect(bounded.status).toBe(200);
    const off = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'off', attachments: attach('off.txt') },
      { tenant, env: { ATTACHMENT_MAX_INDEXED_CHARS: '0' } },
    );
    expect(off.status).toBe(200);
    const rows = await createDb(env).execute(
      sql`select a.filename, (select coalesce(sum(length(c.text)), 0) from knowledge_chunks c
            where c.attachment_id = a.id)::integer as chars,
          (select count(*) from knowledge_chunks c where c.attachment_id = a.id)::integer as n
        from attachments a join messages m on m.id = a.message_id where m.chat_session_id = ${session.id}`,
    );
    const got = Object.fromEntries(rows.rows.map((r) => [String(r.filename), { chars: r.chars, n: r.n }]));
    expect(got['off.txt']).toEqual({ chars: 0, n: 0 });
    expect(got['bounded.txt']?.n).toBeGreaterThan(0);
    // 12,000 characters chunked, plus the overlap carried into each next chunk (≤ 200 each).
    expect(Number(got['bounded.txt']?.chars)).toBeLessThanOrEqual(12_000 + 200 * Number(got['bounded.txt']?.n));
    expect(Number(got['bounded.txt']?.chars)).toBeGreaterThan(10_000);
  });
});

describe('Word documents as message attachments', () => {
  it('a .docx reaches the model prompt as text (real files: mammoth.js test data)', { timeout: 60_000 }, async () => {
    const tenant = await createTenant('Docx attachment org');
    const session = await createSession(tenant, (await createPersona(tenant)).id);
    const mark = marker('docx-att');
    const reply = await send(tenant, session.id, `What do these say? ${mark}`, [
      { filename: 'single-paragraph.docx', mimeType: DOCX, data: docxFixture('single-paragraph.docx') },
      { filename: 'tables.docx', mimeType: DOCX, data: docxFixture('tables.docx') },
    ]);
    expect(reply.status).toBe(200);
    const prompt = JSON.stringify((await modelRequests(mark))[0]?.body);
    expect(prompt).toContain('Walking on imported air');
    expect(prompt).toContain('Top left\\nTop right\\nBottom left\\nBottom right');
    expect(prompt).toMatch(/filename=\\"single-paragraph.docx\\"/);
  });

  it('stops inflating a ZIP bomb sent as an attachment at its bound (422), storing nothing', {
    timeout: 60_000,
  }, async () => {
    const tenant = await createTenant('Docx bomb attachment org');
    const session = await createSession(tenant, (await createPersona(tenant)).id);
    // 64 MiB of the same paragraph deflates to well under 1 MiB; the archive claims 1 KiB.
    const paragraph = new TextEncoder().encode('<w:p><w:r><w:t>boom</w:t></w:r></w:p>');
    const xml = new Uint8Array(64 * 1024 * 1024);
    for (let i = 0; i + paragraph.length <= xml.length; i += paragraph.length) xml.set(paragraph, i);
    const bomb = await zipWith(xml, true);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const res = await send(tenant, session.id, 'here', [{ filename: 'bomb.docx', mimeType: DOCX, data: base64(bomb) }]);
    expect(res.status).toBe(422);
    // 16 bytes of XML per character kept (300,000 by default): inflation stopped at 4.8 MB, not 64 MiB.
    expect(JSON.stringify(res.body)).toContain('expands to more than 4800000 bytes');
    const count = await createDb(env).execute(
      sql`select count(*)::integer as n from messages where chat_session_id = ${session.id}`,
    );
    expect(Number(count.rows[0]?.n)).toBe(0);
  });

  it('refuses a file declared as Word that is not one (422), storing nothing', { timeout: 60_000 }, async () => {
    const tenant = await createTenant('Docx refusal org');
    const session = await createSession(tenant, (await createPersona(tenant)).id);
    const res = await send(tenant, session.id, 'here', [
      { filename: 'fake.docx', mimeType: DOCX, data: btoa('just some text, not a zip') },
    ]);
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('fake.docx');
    const count = await createDb(env).execute(
      sql`select count(*)::integer as n from messages where chat_session_id = ${session.id}`,
    );
    expect(Number(count.rows[0]?.n)).toBe(0);
  });
});

describe('Excel and PowerPoint files as message attachments', () => {
  const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
  const messages = async (sessionId: string) =>
    Number(
      (
        await createDb(env).execute(
          sql`select count(*)::integer as n from messages where chat_session_id = ${sessionId}`,
        )
      ).rows[0]?.n,
    );

  it('an .xlsx and a .pptx reach the model prompt as text (real files: exceljs, unstructured)', {
    timeout: 60_000,
  }, async () => {
    const tenant = await createTenant('Office attachment org');
    const session = await createSession(tenant, (await createPersona(tenant)).id);
    const mark = marker('office-att');
    const reply = await send(tenant, session.id, `What do these say? ${mark}`, [
      { filename: 'gold.xlsx', mimeType: XLSX, data: officeFixture('gold.xlsx') },
      { filename: 'sample-presentation.pptx', mimeType: PPTX, data: officeFixture('sample-presentation.pptx') },
    ]);
    expect(reply.status).toBe(200);
    const prompt = JSON.stringify((await modelRequests(mark))[0]?.body);
    expect(prompt).toContain('# Values\\nText\\tI am Text\\nNumber\\t3.14\\nInteger\\t5');
    expect(prompt).toContain('# Slide 4\\nThis is kinda backwards, huh?\\nTable\\nA\\nB\\nC');
    expect(prompt).toMatch(/filename=\\"gold.xlsx\\"/);
    expect(prompt).toMatch(/filename=\\"sample-presentation.pptx\\"/);
  });

  it('refuses a ZIP bomb, a Word file declared as a presentation and a file that is not a ZIP (422), storing nothing', {
    timeout: 60_000,
  }, async () => {
    const tenant = await createTenant('Office refusal org');
    const session = await createSession(tenant, (await createPersona(tenant)).id);
    const slide = repeated('<p:sld>', '<a:p><a:r><a:t>boom</a:t></a:r></a:p>', 64 * 1024 * 1024, '</p:sld>');
    const refusals: [string, string, string, string][] = [
      ['bomb.pptx', PPTX, base64(await officeZip('pptx', [slide], true)), 'expands to more than 4800000 bytes'],
      ['word.pptx', PPTX, docxFixture('tables.docx'), 'it has no ppt/presentation.xml'],
      [
        'fake.xlsx',
        XLSX,
        btoa('just some text, not a zip'),
        'is not a readable Excel workbook: it is not a ZIP archive',
      ],
    ];
    for (const [filename, mimeType, data, why] of refusals) {
      const res = await send(tenant, session.id, 'here', [{ filename, mimeType, data }]);
      expect(res.status, filename).toBe(422);
      expect(JSON.stringify(res.body), filename).toContain(why);
    }
    expect(await messages(session.id)).toBe(0);
  });
});
