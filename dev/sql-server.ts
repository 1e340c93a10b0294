/**
 * A local stand-in for Neon's SQL-over-HTTP endpoint, so the Worker's production driver code
 * (`@neondatabase/serverless` over HTTP) runs unchanged against a local database:
 *  - the embedded default: PGlite (PostgreSQL in WASM), persisted in a folder or in memory;
 *  - any real PostgreSQL given by a connection string, through a pooled `pg` client.
 * Protocol: POST {query, params} or {queries:[...]} (one transaction), raw text values in array mode.
 * It reproduces on purpose what Neon's proxy (neondatabase/neon proxy/src/serverless/sql_over_http.rs)
 * does that a plain database does not, so production failures show up here first:
 *  - request JSON over 10 MiB → 413; a response over 10 MiB → 507, checked per row against everything
 *    the request has produced so far (a batch's results together);
 *  - strings with unpaired UTF-16 surrogates (valid JSON, not valid for serde) → 400 with code "";
 *  - every statement through the extended protocol (`a; b` is refused, as on Neon);
 *  - the connection string checked (user, password, host, database) → 400 with code "";
 *  - SQL errors → 400 with all of Neon's fields; failures to reach the database → 500 with code "".
 * Only this machine may call it: the Host must be loopback, a browser's Origin header is refused
 * (no page may run SQL here, whatever DNS says), and every request carries the per-start secret.
 * It counts requests so tests and benchmarks can count round trips.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { PoolClient } from 'pg';

export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

type Field = { name: string; dataTypeID: number };
type Result = { command: string; rowCount: number; fields: Field[]; rows: unknown[][] };
type Query = { query: string; params?: unknown[] };
type Backend = {
  run(queries: Query[], batch: { isolation?: string; readOnly?: boolean }, budget: ResponseBudget): Promise<Result[]>;
  close(): Promise<void>;
};

export type SqlServer = {
  url: string;
  /** What requests must send in the x-local-dev-secret header. */
  secret: string;
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

/** Neon's limits on request JSON and on a response (http_config max_request/response_size_bytes). */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const SECRET_HEADER = 'x-local-dev-secret';

/** A failure answered the way Neon's proxy answers it: status and a body with an empty SQLSTATE. */
class ProxyError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** A response cannot pass MAX_RESPONSE_BYTES: counted row by row, over the whole request. */
class ResponseBudget {
  private used = 0;
  add(bytes: number): void {
    this.used += bytes;
    if (this.used > MAX_RESPONSE_BYTES) {
      throw new ProxyError(507, `response is too large (max is ${MAX_RESPONSE_BYTES} bytes)`);
    }
  }
  /** Counts a result's rows, each as the JSON it becomes. */
  rows(rows: unknown[][]): void {
    for (const row of rows) this.add(Buffer.byteLength(JSON.stringify(row)) + 1);
  }
}

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
  // pgvector (issue 17): loaded so migration 0010 creates knowledge_embeddings, as on Neon.
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const db = new PGlite({ ...(dataDir ? { dataDir } : {}), extensions: { vector } });
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
  // query() is PGlite's extended-protocol path (parse/bind/execute): one statement per call, as on Neon.
  const runOne = async (tx: Tx, q: Query, budget: ResponseBudget): Promise<Result> => {
    const res = await tx.query<unknown[]>(q.query, q.params ?? [], { rowMode: 'array', parsers, serializers });
    budget.rows(res.rows);
    return {
      command: q.query.trim().split(/\s+/)[0]?.toUpperCase() ?? '',
      rowCount: res.affectedRows ?? res.rows.length,
      fields: res.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
      rows: res.rows,
    };
  };
  return {
    async run(queries, batch, budget) {
      const [single] = queries;
      if (queries.length === 1 && single && !batch.isolation && !batch.readOnly) {
        return [await runOne(db, single, budget)];
      }
      // PGlite serialises access itself: one statement or transaction at a time, the rest queue.
      return db.transaction(async (tx) => {
        const out: Result[] = [];
        for (const q of queries) out.push(await runOne(tx, q, budget));
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
  const runOne = async (client: PoolClient, q: Query, budget: ResponseBudget): Promise<Result> => {
    // queryMode 'extended': without it pg sends a parameterless statement through the simple protocol,
    // where `a; b` runs; Neon runs everything extended, where it is refused.
    // (@types/pg does not list queryMode yet; pg's Query reads it: lib/query.js requiresPreparation.)
    const config = { text: q.query, values: q.params ?? [], rowMode: 'array', types: raw, queryMode: 'extended' };
    const res = await client.query(config as unknown as pg.QueryArrayConfig);
    budget.rows(res.rows);
    return {
      command: res.command,
      rowCount: res.rowCount ?? 0,
      fields: res.fields.map((f: { name: string; dataTypeID: number }) => ({ name: f.name, dataTypeID: f.dataTypeID })),
      rows: res.rows,
    };
  };
  return {
    async run(queries, batch, budget) {
      const client = await pool.connect();
      try {
        const [single] = queries;
        if (queries.length === 1 && single && !batch.isolation && !batch.readOnly) {
          return [await runOne(client, single, budget)];
        }
        await client.query(beginStatement(batch));
        try {
          const out: Result[] = [];
          for (const q of queries) out.push(await runOne(client, q, budget));
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

/** The body, refused with 413 once it passes MAX_REQUEST_BYTES (nothing more is read). */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new ProxyError(413, `request is too large (max is ${MAX_REQUEST_BYTES} bytes)`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Neon deserialises with serde, which refuses a "\\ud83d" escape without its pair: so does this. */
function assertWellFormed(queries: Query[]): void {
  const bad = (value: unknown) => typeof value === 'string' && !value.isWellFormed();
  for (const q of queries) {
    if (typeof q?.query !== 'string') throw new ProxyError(400, 'missing field `query`');
    if (bad(q.query) || (q.params ?? []).some(bad)) {
      throw new ProxyError(400, 'lone leading surrogate in hex escape');
    }
  }
}

/**
 * The connection string the driver sends, checked as Neon's proxy checks it before connecting
 * (ConnInfoError: 400, empty code). The local database is the same whatever it names.
 */
function checkConnectionString(value: string | string[] | undefined): { user: string } {
  if (typeof value !== 'string' || value === '') throw new ProxyError(400, 'missing connection string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ProxyError(400, 'invalid connection string');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ProxyError(400, 'connection string must start with postgres: or postgresql:');
  }
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(url.hostname)) {
    throw new ProxyError(400, 'invalid hostname in connection string');
  }
  if (!url.username) throw new ProxyError(400, 'connection string is missing the user name');
  if (!url.password) throw new ProxyError(400, 'connection string is missing the password');
  if (url.pathname.length <= 1) throw new ProxyError(400, 'connection string is missing the database name');
  return { user: decodeURIComponent(url.username) };
}

/** Neon's error body: every field present, SQLSTATE and the rest empty when it is not a SQL error. */
function errorBody(message: string, source: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = { message, code: '' };
  for (const field of ERROR_FIELDS) {
    if (source[field] !== undefined && source[field] !== null) body[field] = String(source[field]);
  }
  return body;
}

/** How a failure is answered: Neon's status for it, and its body. */
function failure(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof ProxyError) return { status: error.status, body: errorBody(error.message) };
  const source = (error ?? {}) as Record<string, unknown>;
  const message = error instanceof Error ? error.message : String(error);
  // A SQL error (it has a SQLSTATE): the query's fault, 400 with the database's fields.
  if (typeof source.code === 'string' && /^[0-9A-Z]{5}$/.test(source.code)) {
    return { status: 400, body: errorBody(message, source) };
  }
  // Anything else is failing to reach or keep the database (refused connection, reset): Neon's 500.
  return { status: 500, body: errorBody(`Couldn't connect to compute node: ${message}`) };
}

/** A loopback Host: a page reaching this port under another name (DNS rebinding) is refused. */
function loopbackHost(value: string | undefined): boolean {
  const host = /^(\[[^\]]+\]|[^:]+)(?::\d{1,5})?$/.exec(value ?? '')?.[1]?.toLowerCase() ?? '';
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function sameSecret(given: string | string[] | undefined, secret: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Who may call at all: this machine's processes that know the secret. Browsers are refused whatever
 * they send: any Origin header, a non-loopback Host. Answers the refusal, or undefined to go on.
 */
export function refuseForeign(req: IncomingMessage, secret: string): { status: number; message: string } | undefined {
  if (!loopbackHost(req.headers.host)) return { status: 403, message: 'Host must be a loopback address.' };
  if (req.headers.origin !== undefined) return { status: 403, message: 'Browsers may not call this endpoint.' };
  if (!sameSecret(req.headers[SECRET_HEADER], secret)) {
    return { status: 401, message: `Missing or wrong ${SECRET_HEADER}.` };
  }
  return undefined;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Test-only outages, by connection-string user: "refuse" answers as Neon does when the compute is unreachable (500), "drop" resets the connection (fetch fails). */
type Outage = 'refuse' | 'drop';

function outageFor(outages: Map<string, Outage>, user: string, body: string): Outage | undefined {
  const byUser = outages.get(user);
  if (byUser) return byUser;
  for (const [key, mode] of outages) if (body.includes(key)) return mode;
  return undefined;
}

export async function startSqlServer(options: {
  /** A PostgreSQL connection string; without it the embedded database is used. */
  databaseUrl?: string | undefined;
  /** Folder for the embedded database; in memory when omitted. */
  dataDir?: string | undefined;
  port?: number;
  host?: string;
  /** The per-start secret every request must send in x-local-dev-secret. */
  secret: string;
  /**
   * Tests only: POST /control/outage {user, mode: "refuse" | "drop" | null} makes requests whose
   * connection string names that user, or whose body contains that string (a test's own organization
   * id, which every tenant query carries, also from a session's Durable Object), fail like a database
   * outage, so a test can stop "the database" for its own requests without stopping it for tests
   * running beside it.
   */
  control?: boolean;
}): Promise<SqlServer> {
  if (options.secret.length < 16) throw new Error('startSqlServer: the secret must be at least 16 characters');
  const backend = options.databaseUrl
    ? await postgresBackend(options.databaseUrl)
    : await pgliteBackend(options.dataDir);
  const outages = new Map<string, Outage>();
  let count = 0;
  const server: Server = createServer(async (req, res) => {
    const refused = refuseForeign(req, options.secret);
    if (refused) {
      req.resume();
      json(res, refused.status, { message: refused.message, code: '' });
      return;
    }
    if (req.method !== 'POST') {
      json(res, req.url === '/health' ? 200 : 405, { ok: req.url === '/health', requests: count });
      return;
    }
    if (req.url === '/control/outage' && options.control) {
      const body = JSON.parse(await readBody(req)) as { user: string; mode: Outage | null };
      if (body.mode) outages.set(body.user, body.mode);
      else outages.delete(body.user);
      json(res, 200, { ok: true });
      return;
    }
    count++;
    try {
      const { user } = checkConnectionString(req.headers['neon-connection-string']);
      const raw = await readBody(req);
      const outage = outages.size ? outageFor(outages, user, raw) : undefined;
      if (outage === 'drop') {
        req.socket.destroy();
        return;
      }
      if (outage === 'refuse') throw new Error('connect ECONNREFUSED (test outage)');
      let body: Query | { queries: Query[] };
      try {
        body = JSON.parse(raw) as Query | { queries: Query[] };
      } catch (error) {
        if (error instanceof ProxyError) throw error;
        throw new ProxyError(400, `request body is not valid JSON: ${(error as Error).message}`);
      }
      const isBatch = 'queries' in body;
      const queries = 'queries' in body ? body.queries : [body];
      assertWellFormed(queries);
      const results = await backend.run(
        queries,
        {
          isolation: req.headers['neon-batch-isolation-level'] as string | undefined,
          readOnly: req.headers['neon-batch-read-only'] === 'true',
        },
        new ResponseBudget(),
      );
      json(res, 200, isBatch ? { results } : results[0]);
    } catch (error) {
      const { status, body } = failure(error);
      // A refused upload is not read to its end: close the connection rather than drain it.
      json(res, status, body, status === 413 ? { connection: 'close' } : {});
    }
  });
  // Keep-alive connections from the Worker are reused; don't let them pin the process on close.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sql`,
    secret: options.secret,
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
