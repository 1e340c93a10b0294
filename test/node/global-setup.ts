/**
 * Runs in Node before the workerd test pool starts: the local SQL-over-HTTP endpoint (embedded
 * PGlite by default, or a fresh database on TEST_DATABASE_URL's server) and the OpenAI-protocol
 * model server. Their addresses reach the Worker as bindings (vitest.config.ts).
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startSqlServer } from '../../dev/sql-server.ts';
import type { PdfFixtureEntry, PdfFixtures } from '../helpers/pdf-fixtures.ts';
import { startFakeOpenAI } from './fake-openai.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    sqlEndpoint: string;
    localDevSecret: string;
    databaseUrl: string;
    openaiUrl: string;
    databaseKind: string;
    pdfFixtures: PdfFixtures;
    /** test/fixtures/docx/*.docx as base64, by file name (knowledge sources, issue 17). */
    docxFixtures: Record<string, string>;
    /** test/fixtures/office/*.xlsx and *.pptx as base64, by file name. */
    officeFixtures: Record<string, string>;
  }
}

/** The files of a fixtures folder whose names end with one of `extensions`, as base64 by file name. */
async function loadFolder(root: string, folder: string, extensions: string[]): Promise<Record<string, string>> {
  const dir = resolve(root, folder);
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).filter((n) => extensions.some((e) => n.endsWith(e)))) {
    files[name] = (await readFile(resolve(dir, name))).toString('base64');
  }
  return files;
}

/**
 * Reads the PDF corpus in place: test/fixtures/pdfs (relative to the project root, where vitest.config.ts
 * is), or PDF_FIXTURES_DIR to try another folder laid out the same way (PDFs and MANIFEST.json).
 */
async function loadPdfFixtures(root: string): Promise<PdfFixtures> {
  const dir = resolve(root, process.env.PDF_FIXTURES_DIR ?? 'test/fixtures/pdfs');
  try {
    const manifest = JSON.parse(await readFile(resolve(dir, 'MANIFEST.json'), 'utf8')) as PdfFixtureEntry[];
    const files: Record<string, string> = {};
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.pdf')).sort()) {
      files[name] = (await readFile(resolve(dir, name))).toString('base64');
    }
    return { dir, error: null, manifest, files };
  } catch (error) {
    return { dir, error: `cannot read the PDF fixtures in ${dir}: ${String(error)}`, manifest: [], files: {} };
  }
}

async function freshPostgresDatabase(serverUrl: string) {
  const name = `persona_test_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export default async function setup(project: TestProject) {
  const serverUrl = process.env.TEST_DATABASE_URL;
  const database = serverUrl ? await freshPostgresDatabase(serverUrl) : undefined;
  // A secret per test run, as `npm run dev` makes one per start; control: tests may stage outages.
  const sql = await startSqlServer({
    databaseUrl: database?.url,
    secret: randomBytes(24).toString('base64url'),
    control: true,
  });
  const openai = await startFakeOpenAI();
  const receiver = await startWebhookReceiver();
  project.provide('webhookReceiverUrl', receiver.url);
  project.provide('sqlEndpoint', sql.url);
  project.provide('localDevSecret', sql.secret);
  // What the Worker's driver sends as the connection string; the local endpoint ignores it.
  project.provide('databaseUrl', 'postgresql://app:app-password@db.localhost:5432/app');
  project.provide('openaiUrl', openai.url);
  project.provide('databaseKind', database ? 'postgresql' : 'pglite');
  project.provide('pdfFixtures', await loadPdfFixtures(project.config.root));
  project.provide('docxFixtures', await loadFolder(project.config.root, 'test/fixtures/docx', ['.docx']));
  project.provide('officeFixtures', await loadFolder(project.config.root, 'test/fixtures/office', ['.xlsx', '.pptx']));
  console.log(`tests use ${database ? `PostgreSQL (${database.url})` : 'embedded PGlite'}`);
  return async () => {
    await openai.close();
    await receiver.close();
    await sql.close();
    await database?.drop();
  };
}
