/**
 * Issue 17: a PDF the request cannot read to the end (the PDF work budget) is indexed whole on the
 * knowledge-ingest queue (src/services/attachment-index.ts). The turn that sent it waits for that
 * (ATTACHMENT_INDEX_WAIT_MS); later turns read the index whatever happened; the bytes wait in R2
 * only until then; failures keep the chunks the request made; no job crosses organizations.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { indexAttachment } from '../src/services/attachment-ingest';
import { knowledgeQueue, SOURCE_DEAD_LETTER_QUEUE } from '../src/services/knowledge-queue';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { metadataOf, sendWithAttachments, waitFor } from './helpers/chat';
import { createPersona, createSession, marker, modelRequests } from './helpers/factories';
import { pdfFixture } from './helpers/pdf-fixtures';

const LARGE = 'large-117-pages_GeoTopo-komprimiert.pdf';
const QUESTION = "Was folgt mit der Regel von L'Hospital für das Doppelverhältnis DV?";
// On page 88 only; the request reads the fixture up to page 19 at the default PDF budget.
const PASSAGE = 'Mit der Regel von L’Hospital folgt, dass in diesem Fall DV(z1, . . . , z4) = ∞ gilt.';
const pdf = () => [{ filename: LARGE, mimeType: 'application/pdf', data: pdfFixture(LARGE) }];

async function attachmentOf(chatSessionId: string) {
  const result = await createDb(env).execute(
    sql`select a.id, a.index_status,
          (select count(*) from knowledge_chunks c where c.attachment_id = a.id)::integer as chunks,
          (select max(page_end) from knowledge_chunks c where c.attachment_id = a.id)::integer as last_page
        from attachments a join messages m on m.id = a.message_id
        where m.chat_session_id = ${chatSessionId} order by a.created_at`,
  );
  return result.rows.map((r) => ({
    id: String(r.id),
    indexStatus: r.index_status as string | null,
    chunks: Number(r.chunks),
    lastPage: Number(r.last_page),
  }));
}

async function blobKeys(organizationId: string): Promise<string[]> {
  const listed = await env.SOURCE_BLOBS?.list({ prefix: `attachments/${organizationId}/` });
  return (listed?.objects ?? []).map((o) => o.key);
}

async function runQueue(queue: string, body: unknown) {
  const batch = createMessageBatch(queue, [{ id: 'm1', timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await knowledgeQueue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

describe('attachments indexed whole on the queue', () => {
  let tenant: Tenant;
  let personaId: string;

  /** Sends the large PDF without waiting for its indexing, then waits for the queue to finish it. */
  async function sentAndIndexed(chatSessionId: string, label: string) {
    data(
      await sendWithAttachments(tenant, chatSessionId, `${QUESTION} ${marker(label)}`, pdf(), {
        ATTACHMENT_INDEX_WAIT_MS: '0',
      }),
    );
    const rows = await waitFor(
      () => attachmentOf(chatSessionId),
      (found) => found[0]?.indexStatus === 'READY',
      600,
    );
    return rows[0];
  }

  beforeAll(async () => {
    tenant = await createTenant('Attachment indexing org');
    personaId = (await createPersona(tenant, { name: 'Index tutor' })).id;
  });

  it('without waiting (ATTACHMENT_INDEX_WAIT_MS=0) the reply reports the attachment pending; the next turn has the whole index', {
    timeout: 120_000,
  }, async () => {
    const session = await createSession(tenant, personaId);
    const first = data(
      await sendWithAttachments(tenant, session.id, `${QUESTION} ${marker('nowait')}`, pdf(), {
        ATTACHMENT_INDEX_WAIT_MS: '0',
      }),
    );
    const [attachment] = await attachmentOf(session.id);
    expect(attachment).toBeDefined();
    expect(metadataOf(first).knowledge.indexing).toMatchObject({
      attachments: [attachment?.id],
      pending: [attachment?.id],
    });
    // The request's own chunks reach page 19 at most; the queue's reach the end of the file.
    const done = await waitFor(
      () => attachmentOf(session.id),
      (rows) => rows[0]?.indexStatus === 'READY',
      600,
    );
    expect(done[0]?.lastPage).toBeGreaterThanOrEqual(100);
    expect(await blobKeys(tenant.organizationId)).toEqual([]);
    // The message shows where its file stands (null would mean the request read all of it).
    const read = data(await query('chat.getSession', { id: session.id }, { tenant }));
    expect(read.messages[0]?.attachments[0]).toMatchObject({ filename: LARGE, truncated: true, indexStatus: 'READY' });
    const mark = marker('next');
    const second = data(await sendWithAttachments(tenant, session.id, `${QUESTION} ${mark}`));
    expect(JSON.stringify((await modelRequests(mark))[0]?.body)).toContain(PASSAGE);
    expect(metadataOf(second).knowledge.indexing).toBeUndefined();
    expect(
      metadataOf(second).knowledge.used.some((u) => u.attachmentId === attachment?.id && u.pages?.includes(88)),
    ).toBe(true);
  });

  it('stopping the reply while it waits for the queue ends the wait at once (STOPPED, the file still pending)', {
    timeout: 120_000,
  }, async () => {
    const db = createDb(env);
    const session = await createSession(tenant, personaId);
    const sending = sendWithAttachments(tenant, session.id, `${QUESTION} ${marker('stop')}`, pdf());
    // The placeholder exists once the message is stored, which is when the wait (about 4 s here) starts.
    const [placeholder] = await waitFor(
      async () =>
        (
          await db.execute(
            sql`select id from messages where chat_session_id = ${session.id} and role = 'ASSISTANT' and status = 'STREAMING'`,
          )
        ).rows,
      (rows) => rows.length > 0,
      600,
    );
    expect((await mutate('chat.stopReply', { messageId: placeholder?.id }, { tenant })).status).toBe(200);
    await sending;
    const stopped = await db.execute(sql`select status, metadata from messages where id = ${placeholder?.id}`);
    expect(stopped.rows[0]?.status).toBe('STOPPED');
    const [attachment] = await attachmentOf(session.id);
    const metadata = (stopped.rows[0]?.metadata ?? {}) as { knowledge?: { indexing?: { pending: string[] } } };
    const indexing = metadata.knowledge?.indexing;
    expect(indexing?.pending).toEqual([attachment?.id]);
    // The queue finishes the file regardless, for the session's later turns.
    const done = await waitFor(
      () => attachmentOf(session.id),
      (rows) => rows[0]?.indexStatus === 'READY',
      600,
    );
    expect(done[0]?.lastPage).toBeGreaterThanOrEqual(100);
  });

  it('a replayed send (same Idempotency-Key) stores nothing new and leaves no bytes behind', {
    timeout: 120_000,
  }, async () => {
    const session = await createSession(tenant, personaId);
    const input = {
      chatSessionId: session.id,
      content: `${QUESTION} ${marker('replay')}`,
      role: 'USER',
      attachments: pdf(),
    };
    const headers = { 'Idempotency-Key': `replay-${crypto.randomUUID()}` };
    const first = data(await mutate('chat.sendMessage', input, { tenant, headers }));
    const again = data(await mutate('chat.sendMessage', input, { tenant, headers }));
    expect(again.id).toBe(first.id);
    const rows = await attachmentOf(session.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.indexStatus).toBe('READY');
    // The replay's own copy of the bytes (a new attachment id) was deleted, not left in R2.
    expect(await blobKeys(tenant.organizationId)).toEqual([]);
  });

  it('failures keep the chunks the request made: bytes missing, or the retries ran out (dead letter)', {
    timeout: 120_000,
  }, async () => {
    const db = createDb(env);
    const session = await createSession(tenant, personaId);
    // Indexed once for real, then marked PENDING again by hand for each failure below.
    const row = await sentAndIndexed(session.id, 'fail');
    const attachmentId = row?.id ?? '';
    await db.execute(sql`update attachments set index_status = 'PENDING' where id = ${attachmentId}`);
    const job = { organizationId: tenant.organizationId, attachmentId, chatSessionId: session.id };
    const scope = { requestId: 'test' };
    // Its bytes are gone (deleted after the first indexing): FAILED, chunks kept.
    expect(await indexAttachment(db, env, scope, job)).toBe('FAILED');
    expect((await attachmentOf(session.id))[0]).toMatchObject({ indexStatus: 'FAILED', chunks: row?.chunks });
    // A dead-lettered job marks a PENDING attachment FAILED and acks.
    await db.execute(sql`update attachments set index_status = 'PENDING' where id = ${attachmentId}`);
    expect((await runQueue(SOURCE_DEAD_LETTER_QUEUE, job)).explicitAcks).toEqual(['m1']);
    expect((await attachmentOf(session.id))[0]).toMatchObject({ indexStatus: 'FAILED', chunks: row?.chunks });
  });

  it("a job naming another organization's attachment touches nothing", { timeout: 120_000 }, async () => {
    const db = createDb(env);
    const attacker = await createTenant('Attachment indexing attacker');
    const session = await createSession(tenant, personaId);
    const row = await sentAndIndexed(session.id, 'victim');
    await db.execute(sql`update attachments set index_status = 'PENDING' where id = ${row?.id}`);
    const job = { organizationId: attacker.organizationId, attachmentId: row?.id, chatSessionId: session.id };
    expect((await runQueue('knowledge-ingest', job)).explicitAcks).toEqual(['m1']);
    expect((await runQueue(SOURCE_DEAD_LETTER_QUEUE, job)).explicitAcks).toEqual(['m1']);
    expect((await attachmentOf(session.id))[0]).toMatchObject({ indexStatus: 'PENDING', chunks: row?.chunks });
    await db.execute(sql`update attachments set index_status = 'READY' where id = ${row?.id}`);
  });
});
