/**
 * Attachments end to end (issue 5): every file of the PDF corpus (test/fixtures/pdfs) through chat.sendMessage as
 * the contract sends it, the extracted text reaching the model on that turn and the next, and the
 * limits and rejections — each rejection with nothing stored.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config';
import type { Env } from '../src/env';
import type { AttachmentView } from '../src/views/message';
import { type ApiResponse, createTenant, data, query, type Tenant } from './helpers/api';
import { metadataOf, sendWithAttachments } from './helpers/chat';
import { allModelRequests, type ModelRequest, conversation as newConversation } from './helpers/factories';
import { type PdfFixtureEntry, pdfFixture, pdfFixtures } from './helpers/pdf-fixtures';

type Attachment = { filename: string; mimeType: string; data: string; password?: string };

type StoredAttachment = AttachmentView;

type StoredMessage = { id: string; role: string; content: string; attachments: StoredAttachment[] };
type Session = { id: string; _count: { messages: number }; messages: StoredMessage[] };

/** A fresh organization with a persona and an empty session. */
async function conversation(): Promise<{ tenant: Tenant; sessionId: string }> {
  const tenant = await createTenant('Attachments test org');
  const { session } = await newConversation(tenant, {
    name: 'Document Assistant',
    instructions: 'You answer questions about documents.',
  });
  return { tenant, sessionId: session.id };
}

/** A unique marker for the message content, to find this test's requests among everyone's. */
function marker(label: string): string {
  return `[${label}-${crypto.randomUUID()}]`;
}

const send = sendWithAttachments;

/** chat.sendMessage through an app given other settings (limits), as a deployment with them would run. */
function sendWithEnv(
  overrides: Partial<Env>,
  tenant: Tenant,
  chatSessionId: string,
  content: string,
  attachments: Attachment[],
) {
  return sendWithAttachments(tenant, chatSessionId, content, attachments, overrides);
}

async function getSession(tenant: Tenant, id: string): Promise<Session> {
  return data<Session>(await query('chat.getSession', { id, includeAttachmentText: true }, { tenant }));
}

/** The user message carrying `mark`, as getSession returns it. */
async function storedUserMessage(tenant: Tenant, sessionId: string, mark: string): Promise<StoredMessage> {
  const session = await getSession(tenant, sessionId);
  const found = session.messages.filter((m) => m.role === 'USER' && m.content.includes(mark));
  expect(found, `one stored user message carrying ${mark}`).toHaveLength(1);
  return found[0] as StoredMessage;
}

/** An attachment's opening delimiter; its boundary code is drawn anew for every prompt. */
function openTag(filename: string, rest = ''): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`<attachment-[0-9a-f]{24} filename=${literal(JSON.stringify(filename))}${literal(rest)}`);
}

/** Every string of the prompt (instructions and message texts), in order. */
function promptStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) promptStrings(v, out);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'role' || key === 'type' || key === 'id') continue;
      promptStrings(v, out);
    }
  }
  return out;
}

function lastUserText(r: ModelRequest): string {
  const list = (r.path.endsWith('/responses') ? r.body.input : r.body.messages) as { role: string }[] | undefined;
  const user = [...(list ?? [])].reverse().find((m) => m.role === 'user');
  return user ? promptStrings(user).join('\n') : '';
}

/**
 * The prompts the local model server received whose last user message carries `mark` (the server
 * records every request of every test file; the marker picks out this test's).
 */
async function promptsFor(mark: string): Promise<string[]> {
  return (await allModelRequests())
    .filter((r) => lastUserText(r).includes(mark))
    .map((r) => promptStrings([r.body.instructions, r.body.input ?? r.body.messages]).join('\n'));
}

/** What every rejected send must leave behind: the session exactly as it was, and no model call. */
async function expectNothingStored(tenant: Tenant, sessionId: string, before: Session, mark: string) {
  const after = await getSession(tenant, sessionId);
  expect(after._count.messages).toBe(before._count.messages);
  expect(after.messages.map((m) => m.id)).toEqual(before.messages.map((m) => m.id));
  expect(after.messages.some((m) => m.content.includes(mark))).toBe(false);
  expect(await promptsFor(mark)).toEqual([]);
}

function errorOf(res: ApiResponse<{ error?: { message?: string } } | string>): { message: string; status: number } {
  return { message: typeof res.body === 'string' ? '' : (res.body.error?.message ?? ''), status: res.status };
}

const b64 = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
};

const bytesB64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes));

function startsWithPdfHeader(base64: string): boolean {
  return atob(base64.slice(0, 1400)).slice(0, 1024).includes('%PDF-');
}

// ---------------------------------------------------------------------------------------------------

/** The limits the Worker under test runs with (wrangler.toml vars, else the defaults). */
const limits = loadConfig(env).attachments;

const corpus = inject('pdfFixtures');
const manifest: PdfFixtureEntry[] = corpus?.manifest ?? [];

describe('the PDF corpus', () => {
  it('is readable and every file has exactly one manifest entry', () => {
    const fixtures = pdfFixtures();
    const files = Object.keys(fixtures.files).sort();
    expect(files.length).toBeGreaterThanOrEqual(16);
    expect(fixtures.manifest.map((e) => e.file).sort()).toEqual(files);
    expect(new Set(fixtures.manifest.map((e) => e.expect))).toEqual(new Set(['text', 'no-text', 'password', 'error']));
  });
});

describe('each PDF of the corpus through chat.sendMessage', () => {
  const maxPages = limits.maxPdfPages;
  const maxChars = limits.maxChars;

  for (const entry of manifest) {
    const pdf = (password?: string): Attachment => ({
      filename: entry.file,
      mimeType: 'application/pdf',
      data: pdfFixture(entry.file),
      ...(password === undefined ? {} : { password }),
    });

    if (entry.expect === 'text') {
      it(`${entry.file} (${entry.case}): text extracted, stored and sent to the model`, async () => {
        const { tenant, sessionId } = await conversation();
        const mark = marker('pdf');
        const res = await send(tenant, sessionId, `${mark} Summarize the attached document.`, [pdf()]);
        const reply = data(res);
        expect(reply.role).toBe('ASSISTANT');

        const message = await storedUserMessage(tenant, sessionId, mark);
        expect(message.attachments).toHaveLength(1);
        const stored = message.attachments[0] as StoredAttachment;
        expect(stored).toMatchObject({
          filename: entry.file,
          mimeType: 'application/pdf',
          detectedType: 'application/pdf',
          pageCount: entry.pages,
          hasText: true,
          byteSize: entry.bytes,
          sha256: entry.sha256,
        });
        expect(stored.text).toContain(entry.snippet);
        const pagesCut = (entry.pages ?? 0) > maxPages;
        const charsCut = (entry.chars ?? 0) > maxChars;
        expect(stored.truncated).toBe(pagesCut || charsCut);
        // Read to the end in the request: nothing left for the queue.
        if (!pagesCut) expect(stored.indexStatus).toBeNull();
        if (!stored.truncated) {
          // Whole document read: the last page's text is there, and the length matches the manifest's
          // measurement (ours is trimmed and cleaned of control characters, so it may be a little shorter).
          if (entry.snippet_last_page) expect(stored.text).toContain(entry.snippet_last_page);
          expect(stored.charCount).toBe(stored.text?.length);
          expect(stored.charCount).toBeLessThanOrEqual(entry.chars ?? 0);
          expect(stored.charCount).toBeGreaterThanOrEqual((entry.chars ?? 0) - 5);
        } else {
          expect(stored.text?.length).toBeLessThanOrEqual(maxChars);
          if (entry.snippet_last_page) expect(stored.text).not.toContain(entry.snippet_last_page);
        }

        // The model got the text, delimited with the file name.
        const prompts = await promptsFor(mark);
        expect(prompts.length).toBeGreaterThanOrEqual(1);
        const prompt = prompts.at(-1) ?? '';
        expect(prompt).toMatch(openTag(entry.file));
        expect(prompt).toContain(entry.snippet);
        expect(metadataOf(reply).context.attachmentsIncluded).toEqual([
          expect.objectContaining({ id: stored.id, filename: entry.file }),
        ]);
        expect(metadataOf(reply).context.attachmentsOmitted).toEqual([]);
        expect((await getSession(tenant, sessionId))._count.messages).toBe(2);
      });
    } else if (entry.expect === 'no-text') {
      it(`${entry.file} (${entry.case}): stored with hasText=false and the model is told`, async () => {
        const { tenant, sessionId } = await conversation();
        const mark = marker('scan');
        const reply = data(await send(tenant, sessionId, `${mark} What does this scan say?`, [pdf()]));
        const stored = (await storedUserMessage(tenant, sessionId, mark)).attachments[0];
        expect(stored).toMatchObject({ filename: entry.file, pageCount: entry.pages, hasText: false, text: '' });
        expect(stored?.charCount).toBe(0);

        const prompt = (await promptsFor(mark)).at(-1) ?? '';
        expect(prompt).toMatch(openTag(entry.file));
        expect(prompt).toMatch(/no extractable text/);
        expect(metadataOf(reply).context.attachmentsIncluded).toEqual([
          expect.objectContaining({ filename: entry.file }),
        ]);
      });
    } else if (entry.expect === 'password') {
      it(`${entry.file} (${entry.case}): refused without its password, nothing stored`, async () => {
        const { tenant, sessionId } = await conversation();
        const before = await getSession(tenant, sessionId);
        const mark = marker('locked');
        const res = await send(tenant, sessionId, `${mark} Read this.`, [pdf()]);
        const error = errorOf(res);
        expect(error.status).toBe(422);
        expect(error.message).toContain(entry.file);
        expect(error.message).toMatch(/password-protected/);
        expect(error.message).toMatch(/"password" field/);
        await expectNothingStored(tenant, sessionId, before, mark);

        const wrong = errorOf(await send(tenant, sessionId, `${mark} Read this.`, [pdf('not-the-password')]));
        expect(wrong.status).toBe(422);
        expect(wrong.message).toContain(entry.file);
        expect(wrong.message).toMatch(/password .*wrong/);
        await expectNothingStored(tenant, sessionId, before, mark);
      });

      it(`${entry.file}: read when its password is sent in the attachment`, async () => {
        expect(entry.password).toBeTruthy();
        const { tenant, sessionId } = await conversation();
        const mark = marker('unlocked');
        data(await send(tenant, sessionId, `${mark} Read this.`, [pdf(entry.password)]));
        const stored = (await storedUserMessage(tenant, sessionId, mark)).attachments[0];
        expect(stored).toMatchObject({ filename: entry.file, pageCount: entry.pages, hasText: true, truncated: false });
        expect(stored?.text).toContain(entry.snippet);
        expect(JSON.stringify(stored)).not.toContain(entry.password);
        expect((await promptsFor(mark)).at(-1)).toContain(entry.snippet);
      });
    } else {
      it(`${entry.file} (${entry.case}): clear 4xx error naming the file, nothing stored`, async () => {
        const { tenant, sessionId } = await conversation();
        const before = await getSession(tenant, sessionId);
        const mark = marker('broken');
        const error = errorOf(await send(tenant, sessionId, `${mark} Read this.`, [pdf()]));
        expect(error.message).toContain(`"${entry.file}"`);
        if (startsWithPdfHeader(pdfFixture(entry.file))) {
          // A PDF that pdf.js cannot open or read (truncated, fuzzed).
          expect(error.status).toBe(422);
          expect(error.message).toMatch(/damaged or invalid PDF/);
        } else {
          // Not a PDF at all (the HTML error page): the declared type does not match the bytes.
          expect(error.status).toBe(400);
          expect(error.message).toMatch(
            /is declared application\/pdf but its content is not a PDF \(detected text\/html\)/,
          );
        }
        await expectNothingStored(tenant, sessionId, before, mark);
      });
    }
  }
});

describe('attachment text in the model context', () => {
  it('reaches the model on its own turn and on the next turn, delimited with the filename', async () => {
    const { tenant, sessionId } = await conversation();
    const file = 'simple-onepage_minimal-document.pdf';
    const snippet = 'Lorem ipsum dolor sit amet, consetetur sadipscing elitr';
    const first = marker('turn1');
    const reply1 = data(
      await send(tenant, sessionId, `${first} Please summarize the key points from this document`, [
        { filename: 'document.pdf', mimeType: 'application/pdf', data: pdfFixture(file) },
      ]),
    );
    const prompt1 = (await promptsFor(first)).at(-1) ?? '';
    expect(prompt1).toMatch(openTag('document.pdf', ' pages="1">'));
    expect(prompt1).toContain(snippet);
    expect(prompt1).toMatch(/<\/attachment-[0-9a-f]{24}>/);
    const attachmentId = metadataOf(reply1).context.attachmentsIncluded[0]?.id;
    expect(attachmentId).toMatch(/^att_/);

    const second = marker('turn2');
    const reply2 = data(await send(tenant, sessionId, `${second} And what language is it in?`));
    const prompts2 = await promptsFor(second);
    expect(prompts2.length).toBeGreaterThanOrEqual(1);
    const prompt2 = prompts2.at(-1) ?? '';
    expect(prompt2).toMatch(openTag('document.pdf', ' pages="1">'));
    expect(prompt2).toContain(snippet);
    // The document sits with the first question, before the second one.
    expect(prompt2.indexOf(snippet)).toBeLessThan(prompt2.indexOf(second));
    expect(prompt2.indexOf(first)).toBeLessThan(prompt2.indexOf(snippet));
    expect(metadataOf(reply2).context.attachmentsIncluded).toEqual([{ id: attachmentId, filename: 'document.pdf' }]);
    expect(metadataOf(reply2).context.attachmentsOmitted).toEqual([]);

    // The attachment belongs to the first user message only.
    const session = await getSession(tenant, sessionId);
    expect(session.messages.map((m) => [m.role, m.attachments.length])).toEqual([
      ['USER', 1],
      ['ASSISTANT', 0],
      ['USER', 0],
      ['ASSISTANT', 0],
    ]);
  });

  it('keeps the most recent attachments within the token budget and reports the rest as omitted', async () => {
    const { tenant, sessionId } = await conversation();
    const budget = { CONTEXT_TOKEN_BUDGET: '3250' };
    // ~2,750 tokens each: the newer one fits (after the system prompt's ~200-token note on tags), then
    // too little room is left for any of the older one.
    const older = 'O'.repeat(11_000);
    const newer = 'N'.repeat(11_000);
    const m1 = marker('old');
    data(
      await sendWithEnv(budget, tenant, sessionId, `${m1} first`, [
        { filename: 'old.txt', mimeType: 'text/plain', data: b64(`OLDDOC ${older}`) },
      ]),
    );
    const m2 = marker('new');
    const reply = data(
      await sendWithEnv(budget, tenant, sessionId, `${m2} second`, [
        { filename: 'new.txt', mimeType: 'text/plain', data: b64(`NEWDOC ${newer}`) },
      ]),
    );
    const prompt = (await promptsFor(m2)).at(-1) ?? '';
    expect(prompt).toContain('NEWDOC');
    expect(prompt).not.toContain('OLDDOC');
    expect(prompt).toMatch(
      /<note-([0-9a-f]{24})>Attachment "old\.txt" is not shown: it does not fit in the context\.<\/note-\1>/,
    );
    // Both questions are still there: only the old document's text was dropped.
    expect(prompt).toContain(m1);
    expect(metadataOf(reply).context.attachmentsIncluded).toEqual([expect.objectContaining({ filename: 'new.txt' })]);
    expect(metadataOf(reply).context.attachmentsOmitted).toEqual([expect.objectContaining({ filename: 'old.txt' })]);
  });

  it('sends the beginning of a document larger than the whole budget instead of nothing', async () => {
    const { tenant, sessionId } = await conversation();
    const mark = marker('big');
    const file = 'multipage-paper_tracemonkey.pdf'; // ~83k characters, more than the default 16k-token budget
    const reply = data(
      await send(tenant, sessionId, `${mark} Summarize this paper.`, [
        { filename: file, mimeType: 'application/pdf', data: pdfFixture(file) },
      ]),
    );
    const prompt = (await promptsFor(mark)).at(-1) ?? '';
    expect(prompt).toContain('Trace-based Just-in-Time Type Specialization for Dynamic');
    expect(prompt).not.toContain('Extensible Trace Interpreter'); // the last page did not fit
    expect(prompt).toMatch(/Only the first \d+ of \d+ characters of this document fit in the context/);
    expect(metadataOf(reply).context.attachmentsIncluded).toEqual([
      expect.objectContaining({ filename: file, partial: true }),
    ]);
    expect(metadataOf(reply).context.estimatedTokens).toBeLessThanOrEqual(16_000);
  });
});

describe('attachment limits and rejections (nothing stored)', () => {
  async function rejected(
    attachments: Attachment[],
    expected: { status: number; message: RegExp },
    overrides?: Record<string, string>,
  ) {
    const { tenant, sessionId } = await conversation();
    const before = await getSession(tenant, sessionId);
    const mark = marker('reject');
    const res = overrides
      ? await sendWithEnv(overrides, tenant, sessionId, `${mark} hello`, attachments)
      : await send(tenant, sessionId, `${mark} hello`, attachments);
    const error = errorOf(res);
    expect(error.status).toBe(expected.status);
    expect(error.message).toMatch(expected.message);
    await expectNothingStored(tenant, sessionId, before, mark);
  }

  it('rejects an unsupported type with 415 and lists the supported ones', async () => {
    await rejected([{ filename: 'photo.png', mimeType: 'image/png', data: bytesB64([0x89, 0x50, 0x4e, 0x47]) }], {
      status: 415,
      message: /"photo\.png" has unsupported type "image\/png"\. Supported: application\/pdf, text\/plain/,
    });
  });

  it('rejects a declared PDF whose bytes are HTML with 400', async () => {
    await rejected(
      [{ filename: 'report.pdf', mimeType: 'application/pdf', data: pdfFixture('not-a-pdf_html-error-page.pdf') }],
      { status: 400, message: /"report\.pdf" is declared application\/pdf but its content is not a PDF/ },
    );
  });

  it('rejects text declared but PDF bytes with 400', async () => {
    await rejected(
      [{ filename: 'notes.txt', mimeType: 'text/plain', data: pdfFixture('simple-onepage_minimal-document.pdf') }],
      { status: 400, message: /"notes\.txt" is declared text\/plain but its content is a PDF/ },
    );
  });

  it('rejects invalid base64 with 400', async () => {
    for (const bad of ['not base64 at all!', 'QUJD$', 'QUJDR', '=QUJD']) {
      await rejected([{ filename: 'a.txt', mimeType: 'text/plain', data: bad }], {
        status: 400,
        message: /"a\.txt": "data" is not valid base64/,
      });
    }
  });

  it('rejects an empty attachment with 400', async () => {
    await rejected([{ filename: 'empty.txt', mimeType: 'text/plain', data: '' }], {
      status: 400,
      message: /"empty\.txt" is empty/,
    });
  });

  it('rejects more attachments than ATTACHMENTS_MAX_COUNT with 400', async () => {
    const oneTooMany = Array.from({ length: limits.maxCount + 1 }, (_, i) => ({
      filename: `f${i}.txt`,
      mimeType: 'text/plain',
      data: b64(`file ${i}`),
    }));
    await rejected(oneTooMany, {
      status: 400,
      message: new RegExp(`Too many attachments: ${limits.maxCount + 1} \\(max ${limits.maxCount} per message\\)`),
    });
    await rejected(
      oneTooMany.slice(0, 3),
      { status: 400, message: /Too many attachments: 3 \(max 2 per message\)/ },
      {
        ATTACHMENTS_MAX_COUNT: '2',
      },
    );
  });

  it('rejects an attachment over ATTACHMENT_MAX_BYTES with 413', async () => {
    await rejected(
      [{ filename: 'big.txt', mimeType: 'text/plain', data: b64('x'.repeat(1001)) }],
      { status: 413, message: /"big\.txt" is 1001 bytes; the limit is 1000 bytes per attachment/ },
      { ATTACHMENT_MAX_BYTES: '1000' },
    );
    // A real PDF against the same limit.
    await rejected(
      [{ filename: 'paper.pdf', mimeType: 'application/pdf', data: pdfFixture('simple-onepage_minimal-document.pdf') }],
      { status: 413, message: /"paper\.pdf" is 16978 bytes; the limit is 1000 bytes/ },
      { ATTACHMENT_MAX_BYTES: '1000' },
    );
  });

  it('rejects attachments over ATTACHMENTS_MAX_TOTAL_BYTES together with 413', async () => {
    await rejected(
      [
        { filename: 'a.txt', mimeType: 'text/plain', data: b64('a'.repeat(600)) },
        { filename: 'b.txt', mimeType: 'text/plain', data: b64('b'.repeat(600)) },
      ],
      { status: 413, message: /Attachments total 1200 bytes; the limit is 1000 bytes per message/ },
      { ATTACHMENTS_MAX_TOTAL_BYTES: '1000' },
    );
  });

  it('rejects text that is not valid UTF-8 and JSON that does not parse with 400', async () => {
    await rejected([{ filename: 'latin1.txt', mimeType: 'text/plain', data: bytesB64([0x63, 0x61, 0x66, 0xe9]) }], {
      status: 400,
      message: /"latin1\.txt" is declared as text but is not valid UTF-8/,
    });
    await rejected([{ filename: 'bin.csv', mimeType: 'text/csv', data: bytesB64([0x61, 0x00, 0x62]) }], {
      status: 400,
      message: /"bin\.csv" is declared as text but is not valid UTF-8/,
    });
    await rejected([{ filename: 'data.json', mimeType: 'application/json', data: b64('{"a": 1,') }], {
      status: 400,
      message: /"data\.json" is declared application\/json but is not valid JSON/,
    });
  });

  it('rejects one bad file among good ones without storing any of them', async () => {
    await rejected(
      [
        { filename: 'ok.txt', mimeType: 'text/plain', data: b64('fine') },
        {
          filename: 'broken.pdf',
          mimeType: 'application/pdf',
          data: pdfFixture('damaged-fuzzed_poppler-742-0-fuzzed.pdf'),
        },
      ],
      { status: 422, message: /"broken\.pdf" is a damaged or invalid PDF/ },
    );
  });

  it('rejects bad input shapes with 400 (missing data, filename with control characters)', async () => {
    await rejected([{ filename: 'a.txt', mimeType: 'text/plain' } as unknown as Attachment], {
      status: 400,
      message: /attachments/,
    });
    await rejected([{ filename: 'a\nb.txt', mimeType: 'text/plain', data: b64('x') }], {
      status: 400,
      message: /control characters/,
    });
    // A lone surrogate (valid JSON, invalid Unicode) cannot be stored: 400, not a database fault.
    await rejected([{ filename: 'a\ud800.txt', mimeType: 'text/plain', data: b64('x') }], {
      status: 400,
      message: /valid Unicode/,
    });
    await rejected([{ filename: 'a.txt', mimeType: 'text/plain; charset=no-such-charset', data: b64('x') }], {
      status: 415,
      message: /"a\.txt" has an unknown charset "no-such-charset"/,
    });
  });
});

describe('text attachments', () => {
  it('accepts plain text, markdown, CSV, JSON and HTML, stores their text and sends it to the model', async () => {
    const { tenant, sessionId } = await conversation();
    const mark = marker('texts');
    const html =
      '<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style><script>alert("no")</script></head>' +
      '<body><h1>Release&nbsp;notes</h1><p>Fish &amp; chips &lt;3</p></body></html>';
    const files: Attachment[] = [
      { filename: 'notes.txt', mimeType: 'text/plain', data: b64('\uFEFFPlain notes: café ☕\nline two') },
      { filename: 'README.md', mimeType: 'text/markdown', data: b64('# Title\n\n- item **bold**') },
      { filename: 'table.csv', mimeType: 'text/csv; charset=utf-8', data: b64('name,qty\napple,3\n') },
      { filename: 'config.json', mimeType: 'application/json', data: b64('{"feature": "attachments", "n": 5}') },
      { filename: 'page.html', mimeType: 'text/html', data: b64(html) },
    ];
    const reply = data(await send(tenant, sessionId, `${mark} Compare these files.`, files));
    const stored = (await storedUserMessage(tenant, sessionId, mark)).attachments;
    expect(stored.map((a) => [a.filename, a.mimeType, a.pageCount, a.hasText, a.truncated])).toEqual([
      ['notes.txt', 'text/plain', null, true, false],
      ['README.md', 'text/markdown', null, true, false],
      ['table.csv', 'text/csv', null, true, false],
      ['config.json', 'application/json', null, true, false],
      ['page.html', 'text/html', null, true, false],
    ]);
    expect(stored[0]?.text).toBe('Plain notes: café ☕\nline two');
    expect(stored[0]?.byteSize).toBe(new TextEncoder().encode('\uFEFFPlain notes: café ☕\nline two').length);
    expect(stored[1]?.text).toBe('# Title\n\n- item **bold**');
    expect(stored[2]?.text).toBe('name,qty\napple,3\n');
    expect(stored[3]?.text).toBe('{"feature": "attachments", "n": 5}');
    expect(stored[4]?.text).toContain('Release notes');
    expect(stored[4]?.text).toContain('Fish & chips <3');
    expect(stored[4]?.text).not.toMatch(/<\/?[a-z]|alert|color:red/);
    for (const a of stored) expect(a.charCount).toBe(a.text?.length);

    const prompt = (await promptsFor(mark)).at(-1) ?? '';
    for (const a of stored) {
      expect(prompt).toMatch(openTag(a.filename, '>'));
      expect(prompt).toContain(a.text);
    }
    expect(metadataOf(reply).context.attachmentsIncluded.map((a) => a.filename)).toEqual(files.map((f) => f.filename));
  });

  it('accepts base64 with line breaks, base64url and a data: URL prefix', async () => {
    const { tenant, sessionId } = await conversation();
    const mark = marker('b64');
    const text = 'Line one?>>\nLine two ~~~ ÿ';
    const standard = b64(text);
    const wrapped = standard.replace(/(.{8})/g, '$1\r\n');
    const url = standard.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
    data(
      await send(tenant, sessionId, `${mark} x`, [
        { filename: 'wrapped.txt', mimeType: 'text/plain', data: wrapped },
        { filename: 'url.txt', mimeType: 'text/plain', data: url },
        { filename: 'dataurl.txt', mimeType: 'text/plain', data: `data:text/plain;base64,${standard}` },
      ]),
    );
    const stored = (await storedUserMessage(tenant, sessionId, mark)).attachments;
    expect(stored.map((a) => a.text)).toEqual([text, text, text]);
  });

  it('decodes the declared charset and removes control characters (tabs and newlines kept)', async () => {
    const { tenant, sessionId } = await conversation();
    const mark = marker('charset');
    data(
      await send(tenant, sessionId, `${mark} x`, [
        {
          filename: 'latin1.txt',
          mimeType: 'text/plain; charset=ISO-8859-1',
          data: bytesB64([0x63, 0x61, 0x66, 0xe9]),
        },
        { filename: 'ctrl.txt', mimeType: 'text/plain', data: b64('a\tb\u0007c\u001bd\r\ne\u007f') },
      ]),
    );
    const stored = (await storedUserMessage(tenant, sessionId, mark)).attachments;
    expect(stored.map((a) => [a.mimeType, a.text])).toEqual([
      ['text/plain', 'café'],
      ['text/plain', 'a\tbcd\r\ne'],
    ]);
  });

  it('truncates over-long text to ATTACHMENT_MAX_CHARS, keeping the original length in charCount', async () => {
    const { tenant, sessionId } = await conversation();
    const mark = marker('long');
    const long = `START ${'abcdefghij'.repeat(499)}xyz END`;
    data(
      await sendWithEnv({ ATTACHMENT_MAX_CHARS: '1000' }, tenant, sessionId, `${mark} long`, [
        { filename: 'long.txt', mimeType: 'text/plain', data: b64(long) },
      ]),
    );
    const stored = (await storedUserMessage(tenant, sessionId, mark)).attachments[0];
    expect(stored).toMatchObject({ truncated: true, charCount: long.length, hasText: true });
    expect(stored?.text).toBe(long.slice(0, 1000));
    const prompt = (await promptsFor(mark)).at(-1) ?? '';
    expect(prompt).toContain('START abcdefghij');
    expect(prompt).not.toContain('xyz END');
    expect(prompt).toMatch(/only its beginning is shown/);
  });

  it('stores an empty-looking text file with hasText=false', async () => {
    const { tenant, sessionId } = await conversation();
    const mark = marker('blank');
    data(
      await send(tenant, sessionId, `${mark} x`, [
        { filename: 'blank.md', mimeType: 'text/markdown', data: b64(' \n\t\n') },
      ]),
    );
    const stored = (await storedUserMessage(tenant, sessionId, mark)).attachments[0];
    expect(stored).toMatchObject({ hasText: false, truncated: false });
    expect((await promptsFor(mark)).at(-1)).toMatch(/no extractable text/);
  });
});

describe('PDF limits', () => {
  it('reads at most PDF_MAX_PAGES pages: accepted with truncated=true and the real pageCount', async () => {
    const { tenant, sessionId } = await conversation();
    const mark = marker('pages');
    const file = 'multipage-paper_tracemonkey.pdf';
    data(
      await sendWithEnv({ PDF_MAX_PAGES: '2' }, tenant, sessionId, `${mark} x`, [
        { filename: file, mimeType: 'application/pdf', data: pdfFixture(file) },
      ]),
    );
    const stored = (await storedUserMessage(tenant, sessionId, mark)).attachments[0];
    expect(stored).toMatchObject({ pageCount: 14, truncated: true, hasText: true });
    // The 12 pages left unread went to the queue, which reads the whole file for retrieval.
    expect(['PENDING', 'READY']).toContain(stored?.indexStatus);
    expect(stored?.text).toContain('Trace-based Just-in-Time Type Specialization for Dynamic');
    expect(stored?.text).not.toContain('Extensible Trace Interpreter');
    expect(stored?.charCount).toBeLessThan(20_000);
  });

  it('accepts the 117-page book with the default page limit: truncated=true, pageCount=117', async () => {
    const entry = manifest.find((e) => e.pages === 117);
    expect(entry, 'the corpus has a 117-page file').toBeDefined();
    expect(limits.maxPdfPages).toBeLessThan(117);
    const { tenant, sessionId } = await conversation();
    const mark = marker('book');
    const file = entry?.file ?? '';
    data(
      await send(tenant, sessionId, `${mark} x`, [
        { filename: file, mimeType: 'application/pdf', data: pdfFixture(file) },
      ]),
    );
    const stored = (await storedUserMessage(tenant, sessionId, mark)).attachments[0];
    expect(stored).toMatchObject({ pageCount: 117, truncated: true, hasText: true });
    expect(stored?.text).toContain('Geometrie und Topologie');
  });
});
