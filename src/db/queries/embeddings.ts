import { sql } from 'drizzle-orm';
import type { Db } from '../client';

/**
 * knowledge_embeddings (issue 17) exists only where pgvector could be installed (migration 0010:
 * Neon, PGlite; not Debian's PostgreSQL 15). Asked by name (to_regclass never fails) once per
 * ingested source, on the queue: one cheap query, no error where it is absent, and no answer kept at
 * module scope (an isolate's answer would be wrong for another database).
 */
export async function hasEmbeddingsTable(db: Db): Promise<boolean> {
  const result = await db.execute<{ present: boolean }>(
    sql`select to_regclass('knowledge_embeddings') is not null as present`,
  );
  return result.rows[0]?.present === true;
}

/** pgvector's text form, 7 significant digits (a float4 holds no more), so a batch stays small. */
export function vectorLiteral(embedding: number[]): string {
  return `[${embedding.map((x) => Number(x.toPrecision(7))).join(',')}]`;
}

/**
 * Stores the embeddings of some chunks of a READY source (by ordinal) and records the embedder on
 * the source, in one statement; a chunk already embedded is kept (a repeated batch writes nothing).
 * Each row carries the organization and persona, so the vector search filters without a join.
 * One batch of 64 vectors of 512 numbers is about 0.3 MB of JSON, far below Neon's 10 MiB.
 */
export async function storeSourceEmbeddings(
  db: Db,
  organizationId: string,
  sourceId: string,
  model: string,
  items: { ordinal: number; embedding: number[] }[],
): Promise<number> {
  const rows = items.map((i) => ({ ordinal: i.ordinal, embedding: vectorLiteral(i.embedding) }));
  const result = await db.execute<{ inserted: number }>(sql`
    with src as (
      update knowledge_sources set embedding_model = ${model}
      where id = ${sourceId} and organization_id = ${organizationId} and status = 'READY'
      returning id, organization_id, persona_id
    ), ins as (
      insert into knowledge_embeddings (chunk_id, organization_id, persona_id, model, embedding)
      select c.id, c.organization_id, c.persona_id, ${model}, r.embedding::vector
      from src
      join knowledge_chunks c on c.source_id = src.id and c.organization_id = src.organization_id
      join jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(ordinal integer, embedding text)
        on r.ordinal = c.ordinal
      on conflict (chunk_id) do nothing
      returning 1
    )
    select (select count(*) from ins)::integer as inserted`);
  return result.rows[0]?.inserted ?? 0;
}
