/**
 * `node bench/retrieval.ts`: only the retrieval evaluation of `npm run bench` (bench/lib/retrieval.ts),
 * against an in-memory database (PGlite, with pgvector), the local model server and `wrangler dev`,
 * twice: full-text only (EMBEDDINGS=off), then hybrid (EMBEDDINGS=on; the model server answers
 * /v1/embeddings with the deterministic offline embedder), each on a fresh database. Prints recall@5
 * per document and overall for both. BENCH_PORT / BENCH_INSPECTOR_PORT pick wrangler's ports (free
 * ones otherwise). Everything it starts is stopped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSqlServer } from '../dev/sql-server.ts';
import { type FakeOpenAIServer, startFakeOpenAI } from '../test/node/fake-openai.ts';
import { ADMIN_TOKEN } from './lib/api.ts';
import { installExitHandlers, onCleanup, runCleanup } from './lib/cleanup.ts';
import { comparisonTable, measureRetrieval, type RetrievalResult } from './lib/retrieval.ts';
import { root, setWranglerLogDir, startWranglerDev } from './lib/wrangler.ts';

installExitHandlers();
const scratch = mkdtempSync(join(tmpdir(), 'persona-bench-retrieval-'));
onCleanup('remove scratch folder', () => rmSync(scratch, { recursive: true, force: true }));
setWranglerLogDir(scratch);

/** One measurement on a fresh database and a fresh `wrangler dev` with EMBEDDINGS as given. */
async function run(model: FakeOpenAIServer, embeddings: 'on' | 'off'): Promise<RetrievalResult> {
  const sql = await startSqlServer({ secret: randomBytes(24).toString('base64url') });
  const app = await startWranglerDev({
    name: `wrangler dev (retrieval, EMBEDDINGS=${embeddings})`,
    cwd: root,
    persistTo: join(scratch, `state-${embeddings}`),
    ...(process.env.BENCH_PORT ? { port: Number(process.env.BENCH_PORT) } : {}),
    ...(process.env.BENCH_INSPECTOR_PORT ? { inspectorPort: Number(process.env.BENCH_INSPECTOR_PORT) } : {}),
    vars: {
      DATABASE_URL: 'postgresql://app:local@db.localhost:5432/app',
      LOCAL_SQL_ENDPOINT: sql.url,
      LOCAL_DEV_SECRET: sql.secret,
      ADMIN_TOKEN,
      OPENAI_API_KEY: 'sk-bench-local',
      OPENAI_BASE_URL: model.url,
      EMBEDDINGS: embeddings,
    },
  });
  try {
    return await measureRetrieval(app.url);
  } finally {
    await app.stop();
    await sql.close();
  }
}

try {
  const model = await startFakeOpenAI();
  onCleanup('close model server', () => model.close());
  const fullText = await run(model, 'off');
  const before = model.embeddingRequests().length;
  if (before !== 0) throw new Error(`EMBEDDINGS=off made ${before} embedding calls`);
  const hybrid = await run(model, 'on');
  console.log(comparisonTable(fullText, hybrid, model.embeddingRequests().length));
} finally {
  await runCleanup();
}
