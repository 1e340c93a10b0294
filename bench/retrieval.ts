/**
 * `node bench/retrieval.ts`: only the retrieval evaluation of `npm run bench` (bench/lib/retrieval.ts),
 * against an in-memory database, the local model server and `wrangler dev`
 * (BENCH_PORT / BENCH_INSPECTOR_PORT pick its ports; free ones otherwise). Everything it starts is stopped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSqlServer } from '../dev/sql-server.ts';
import { startFakeOpenAI } from '../test/node/fake-openai.ts';
import { ADMIN_TOKEN } from './lib/api.ts';
import { installExitHandlers, onCleanup, runCleanup } from './lib/cleanup.ts';
import { measureRetrieval, retrievalTable } from './lib/retrieval.ts';
import { root, setWranglerLogDir, startWranglerDev } from './lib/wrangler.ts';

installExitHandlers();
const scratch = mkdtempSync(join(tmpdir(), 'persona-bench-retrieval-'));
onCleanup('remove scratch folder', () => rmSync(scratch, { recursive: true, force: true }));
setWranglerLogDir(scratch);
try {
  const sql = await startSqlServer({ secret: randomBytes(24).toString('base64url') });
  onCleanup('close SQL endpoint', () => sql.close());
  const model = await startFakeOpenAI();
  onCleanup('close model server', () => model.close());
  const app = await startWranglerDev({
    name: 'wrangler dev (retrieval)',
    cwd: root,
    persistTo: join(scratch, 'state'),
    ...(process.env.BENCH_PORT ? { port: Number(process.env.BENCH_PORT) } : {}),
    ...(process.env.BENCH_INSPECTOR_PORT ? { inspectorPort: Number(process.env.BENCH_INSPECTOR_PORT) } : {}),
    vars: {
      DATABASE_URL: 'postgresql://app:local@db.localhost:5432/app',
      LOCAL_SQL_ENDPOINT: sql.url,
      LOCAL_DEV_SECRET: sql.secret,
      ADMIN_TOKEN,
      OPENAI_API_KEY: 'sk-bench-local',
      OPENAI_BASE_URL: model.url,
    },
  });
  onCleanup('stop wrangler dev', () => app.stop());
  console.log(retrievalTable(await measureRetrieval(app.url)));
} finally {
  await runCleanup();
}
