/**
 * A local stand-in for Neon's SQL-over-HTTP endpoint, so the Worker's production driver code
 * (`@neondatabase/serverless` over HTTP) runs unchanged against a local database:
 *  - the embedded default: PGlite (PostgreSQL in WASM), persisted in a folder or in memory;
 *  - any real PostgreSQL given by a connection string, through a pooled `pg` client.
 * Protocol: POST {query, params} or {queries:[...]} (one transaction), raw text values in array mode;
 * errors as 400 {message, code, ...}. It counts requests so tests and benchmarks can count round trips.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { PoolClient } from 'pg';

export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

type Field = { name: string; dataTypeID: number };
type Result = { command: string; rowCount: number; fields: Field[]; rows: unknown[][] };
type Query = { query: string; params?: unknown[] };
type Backend = {
  run(queries: Query[], batch: { isolation?: string; readOnly?: boolean }): Promise<Result[]>;
  close(): Promise<void>;
};

export type SqlServer = {
  url: string;
  port: number;
  /** Requests answered since start (or the last reset): one per driver round trip. */
  requests(): number;
  resetCount(): void;
  close(): Promise<void>;
};

const ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;

const ISOLATION: Record<string, string> = {
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
  Serializable: 'SERIALIZABLE',
};

function beginStatement(batch: { isolation?: string; readOnly?: boolean }): string {
  let sql = 'BEGIN';
  const level = batch.isolation ? ISOLATION[batch.isolation] : undefined;
  if (level) sql += ` ISOLATION LEVEL ${level}`;
  if (batch.readOnly) sql += ' READ ONLY';
  return sql;
}

async function pgliteBackend(dataDir: string | undefined): Promise<Backend> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  await db.waitReady;
  await migrate(drizzle({ client: db }), { migrationsFolder });
  // Raw text in and out, as Neon's endpoint does: the driver parses values itself.
  const oids = await db.query<{ oid: number }>('select oid::int as oid from pg_type');
  const identity = (value: unknown) => value;
  const parsers: Record<number, (value: string) => unknown> = {};
  const serializers: Record<number, (value: unknown) => string> = {};
  for (const { oid } of oids.rows) {
    parsers[oid] = identity as (value: string) => unknown;
    serializers[oid] = (value) => (typeof value === 'string' ? value : String(value));
  }
  type Tx = Pick<typeof db, 'query'>;
  const runOne = async (tx: Tx, q: Query): Promise<Result> => {
    const res = await tx.query<unknown[]>(q.query, q.params ?? [], { rowMode: 'array', parsers, serializers });
    return {
      command: q.query.trim().split(/\s+/)[0]?.toUpperCase() ?? '',
      rowCount: res.affectedRows ?? res.rows.length,
      fields: res.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
      rows: res.rows,
    };
  };
  return {
    async run(queries, batch) {
      const [single] = queries;
      if (queries.length === 1 && single && !batch.isolation && !batch.readOnly) {
        return [await runOne(db, single)];
      }
      // PGlite serialises access itself: one statement or transaction at a time, the rest queue.
      return db.transaction(async (tx) => {
        const out: Result[] = [];
        for (const q of queries) out.push(await runOne(tx, q));
        return out;
      });
    },
    close: () => db.close(),
  };
}

async function postgresBackend(connectionString: string): Promise<Backend> {
  const pg = (await import('pg')).default;
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const pool = new pg.Pool({ connectionString, max: 10 });
  // An idle connection the server drops (restart, dropped database) must not take the process down:
  // the pool discards it and the next query opens a new one.
  pool.on('error', (error) => console.warn(`[sql-server] idle PostgreSQL connection lost: ${error.message}`));
  await migrate(drizzle({ client: pool }), { migrationsFolder });
  const raw = { getTypeParser: () => (value: string) => value };
  const runOne = async (client: PoolClient, q: Query): Promise<Result> => {
    const res = await client.query({ text: q.query, values: q.params ?? [], rowMode: 'array', types: raw });
    return {
      command: res.command,
      rowCount: res.rowCount ?? 0,
      fields: res.fields.map((f: { name: string; dataTypeID: number }) => ({ name: f.name, dataTypeID: f.dataTypeID })),
      rows: res.rows,
    };
  };
  return {
    async run(queries, batch) {
      const client = await pool.connect();
      try {
        const [single] = queries;
        if (queries.length === 1 && single && !batch.isolation && !batch.readOnly) {
          return [await runOne(client, single)];
        }
        await client.query(beginStatement(batch));
        try {
          const out: Result[] = [];
          for (const q of queries) out.push(await runOne(client, q));
          await client.query('COMMIT');
          return out;
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function errorBody(error: unknown): Record<string, unknown> {
  const source = (error ?? {}) as Record<string, unknown>;
  const body: Record<string, unknown> = {
    message: error instanceof Error ? error.message : String(error),
  };
  for (const field of ERROR_FIELDS) {
    if (source[field] !== undefined) body[field] = String(source[field]);
  }
  return body;
}

export async function startSqlServer(options: {
  /** A PostgreSQL connection string; without it the embedded database is used. */
  databaseUrl?: string | undefined;
  /** Folder for the embedded database; in memory when omitted. */
  dataDir?: string | undefined;
  port?: number;
  host?: string;
}): Promise<SqlServer> {
  const backend = options.databaseUrl
    ? await postgresBackend(options.databaseUrl)
    : await pgliteBackend(options.dataDir);
  let count = 0;
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(req.url === '/health' ? 200 : 405, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: req.url === '/health', requests: count }));
      return;
    }
    count++;
    try {
      const body = JSON.parse(await readBody(req)) as Query | { queries: Query[] };
      const isBatch = 'queries' in body;
      const results = await backend.run(isBatch ? body.queries : [body], {
        isolation: req.headers['neon-batch-isolation-level'] as string | undefined,
        readOnly: req.headers['neon-batch-read-only'] === 'true',
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(isBatch ? { results } : results[0]));
    } catch (error) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify(errorBody(error)));
    }
  });
  // Keep-alive connections from the Worker are reused; don't let them pin the process on close.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sql`,
    port,
    requests: () => count,
    resetCount: () => {
      count = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
    },
  };
}
