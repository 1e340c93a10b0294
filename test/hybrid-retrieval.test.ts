/**
 * Hybrid retrieval (issue 17): embeddings of source chunks where pgvector exists, fused with
 * full-text by reciprocal rank fusion. Which path a run covers depends on the database:
 * TEST_DATABASE_KIND 'pglite' (default; PGlite loads pgvector, migration 0010 creates
 * knowledge_embeddings) exercises HYBRID; 'postgresql' (Debian 12's PostgreSQL 15, no pgvector
 * package) exercises the FULL-TEXT FALLBACK: no table, no embedding calls, no error.
 */
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveEmbedder } from '../src/ai/embedder';
import { EMBEDDING_DIMENSIONS, offlineEmbedding } from '../src/ai/offline-embedder';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/client';
import { hasEmbeddingsTable } from '../src/db/queries/embeddings';
import { reciprocalRankFusion } from '../src/db/queries/hybrid-retrieval';
import { embedSourceChunks } from '../src/sources/embed';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { metadataOf } from './helpers/chat';
import { createPersona, createSession } from './helpers/factories';

const HYBRID = env.TEST_DATABASE_KIND === 'pglite';
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

type Source = { id: string; status: string; chunkCount: number };
type Used = { sourceId?: string; filename: string; score: number };

async function readySource(tenant: Tenant, personaId: string, filename: string, text: string): Promise<Source> {
  const added = data<Source>(
    await mutate('source.add', { personaId, filename, mimeType: 'text/markdown', data: b64(text) }, { tenant }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const source = data<Source>(await query('source.get', { id: added.id }, { tenant }));
    if (source.status !== 'PENDING') return source;
    if (Date.now() > deadline) throw new Error(`source ${added.id} still PENDING`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function one<T>(statement: ReturnType<typeof sql>): Promise<T | undefined> {
  return (await createDb(env).execute(statement)).rows[0] as T | undefined;
}

describe('reciprocal rank fusion', () => {
  it('ranks by Σ 1/(60 + rank): in both lists beats first in one; ties by best rank, then id', () => {
    const fused = reciprocalRankFusion([
      { id: 'a', ranks: [1, null] },
      { id: 'b', ranks: [3, 2] },
      { id: 'c', ranks: [null, 1] },
      { id: 'd', ranks: [2, null] },
    ]);
    expect(fused.map((c) => c.id)).toEqual(['b', 'a', 'c', 'd']);
    expect(fused[0]?.score).toBeCloseTo(1 / 63 + 1 / 62, 12);
    expect(fused[1]?.score).toBe(fused[2]?.score);
    expect(reciprocalRankFusion([])).toEqual([]);
  });
});

describe('offline embedder', () => {
  it('is deterministic, unit length, and puts words of one stem close', () => {
    const q = offlineEmbedding('photosynthesis in a chloroplast');
    expect(q).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(q).toEqual(offlineEmbedding('photosynthesis in a chloroplast'));
    expect(cosine(q, q)).toBeCloseTo(1, 9);
    const near = offlineEmbedding('Chloroplasts photosynthesize sunlight');
    const far = offlineEmbedding('Quarterly dividends were reinvested');
    expect(cosine(q, near)).toBeGreaterThan(0.3);
    expect(cosine(q, far)).toBeLessThan(0.1);
    expect(offlineEmbedding('?? !!').every((x) => x === 0)).toBe(true);
  });
});

describe(`knowledge retrieval on ${env.TEST_DATABASE_KIND}: ${HYBRID ? 'HYBRID (pgvector)' : 'FULL-TEXT FALLBACK (no pgvector)'}`, () => {
  let tenant: Tenant;
  let personaId: string;
  let botany: Source;

  beforeAll(async () => {
    tenant = await createTenant('Hybrid retrieval org');
    personaId = (await createPersona(tenant, { name: 'Gardener' })).id;
    botany = await readySource(
      tenant,
      personaId,
      'botany.md',
      '# Botany\nChloroplasts photosynthesize, converting sunlight into sugars inside green leaves.',
    );
    await readySource(
      tenant,
      personaId,
      'finance.md',
      '# Finance\nQuarterly dividends were reinvested into municipal bonds by the fund managers.',
    );
  }, 120_000);

  it('embeds the chunks of a source at ingestion where pgvector exists, and nowhere else', async () => {
    expect(botany.status).toBe('READY');
    expect(await hasEmbeddingsTable(createDb(env))).toBe(HYBRID);
    const row = await one<{ model: string | null }>(
      sql`select embedding_model as model from knowledge_sources where id = ${botany.id}`,
    );
    if (!HYBRID) {
      expect(row?.model).toBeNull();
      return;
    }
    expect(row?.model).toBe('openai/text-embedding-3-small');
    const count = await one<{ n: number }>(sql`select count(*)::integer as n from knowledge_embeddings e
      join knowledge_chunks c on c.id = e.chunk_id where c.source_id = ${botany.id}`);
    expect(count?.n).toBe(botany.chunkCount);
  });

  it('finds a passage sharing no word with the question through the vector side (hybrid only)', async () => {
    const session = await createSession(tenant, personaId);
    // Not one of these words is in either source; "chloroplast", "sunlit", "leaf" share stems with botany.md.
    const reply = data(
      await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: 'How does photosynthesis work in a chloroplast of a sunlit leaf?' },
        { tenant },
      ),
    );
    const used = metadataOf(reply).knowledge.used as Used[];
    if (!HYBRID) {
      expect(used, 'full-text finds no shared word').toEqual([]);
      return;
    }
    expect(used.map((u) => u.filename)).toEqual(['botany.md']);
    expect(used[0]?.sourceId).toBe(botany.id);
  });

  it('still finds exact words by full-text on both paths', async () => {
    const session = await createSession(tenant, personaId);
    const reply = data(
      await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'municipal dividends?' }, { tenant }),
    );
    const used = metadataOf(reply).knowledge.used as Used[];
    expect(used[0]?.filename).toBe('finance.md');
  });

  it('a failing embedding call leaves the source as it was and does not throw', async () => {
    const config = loadConfig(env);
    const embedder = resolveEmbedder({ ...config, embeddings: { ...config.embeddings, model: 'fake-embedding-500' } });
    const chunk = { ordinal: 0, pageStart: null, pageEnd: null, heading: null, text: 'x' };
    const outcome = await embedSourceChunks(
      createDb(env),
      { requestId: 'test' },
      embedder,
      { organizationId: 'org_none', id: 'src_none' },
      [chunk],
      10,
    );
    expect(outcome).toEqual(
      HYBRID ? { status: 'failed', chunks: 0, calls: 1 } : { status: 'skipped', reason: 'no-pgvector' },
    );
  });
});
