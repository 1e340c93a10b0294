-- Embeddings of knowledge chunks (issue 17), only where the pgvector extension can be installed
-- (Neon, PGlite with its vector extension loaded). Debian 12's PostgreSQL 15 has no package for it:
-- there this migration does nothing and retrieval stays full-text. The table is kept out of the
-- drizzle schema on purpose (a `vector` column there would make every migration need pgvector);
-- src/db/queries/embeddings.ts reads and writes it with SQL. EXECUTE: the `vector` type must not be
-- resolved before the extension exists. 512 dimensions: EMBEDDING_DIMENSIONS in src/ai/embedder.ts.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    EXECUTE 'CREATE EXTENSION IF NOT EXISTS vector';
    EXECUTE 'CREATE TABLE IF NOT EXISTS knowledge_embeddings (
      chunk_id text PRIMARY KEY REFERENCES knowledge_chunks(id) ON DELETE CASCADE,
      organization_id text NOT NULL,
      persona_id text NOT NULL,
      model text NOT NULL,
      embedding vector(512) NOT NULL
    )';
    -- Approximate nearest neighbours by cosine distance (the `<=>` operator the query orders by).
    EXECUTE 'CREATE INDEX IF NOT EXISTS knowledge_embeddings_hnsw_idx ON knowledge_embeddings
      USING hnsw (embedding vector_cosine_ops)';
    EXECUTE 'CREATE INDEX IF NOT EXISTS knowledge_embeddings_persona_idx ON knowledge_embeddings
      (organization_id, persona_id, model)';
  END IF;
END $$;
