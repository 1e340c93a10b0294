/**
 * The PDF corpus (test/fixtures/pdfs, origins and licences in its README), read in place by test/node/global-setup.ts and
 * handed to the workerd tests with `project.provide('pdfFixtures', …)`: workers cannot read files.
 */
import { inject } from 'vitest';

/** One MANIFEST.json entry (the fields the tests read; the rest pass through). */
export type PdfFixtureEntry = {
  file: string;
  case: string;
  expect: 'text' | 'no-text' | 'password' | 'error';
  pages: number | null;
  chars: number | null;
  snippet: string | null;
  snippet_last_page?: string;
  password?: string;
  error_name?: string;
  error_stage?: string;
  [key: string]: unknown;
};

export type PdfFixtures = {
  /** The folder the files were read from. */
  dir: string;
  /** Set when the folder could not be read; the tests then fail with this message. */
  error: string | null;
  manifest: PdfFixtureEntry[];
  /** Every .pdf in the folder, by file name, as base64. */
  files: Record<string, string>;
};

declare module 'vitest' {
  export interface ProvidedContext {
    pdfFixtures: PdfFixtures;
  }
}

/** The corpus; throws (failing the calling test) when global setup could not read it. */
export function pdfFixtures(): PdfFixtures {
  const fixtures = inject('pdfFixtures');
  if (!fixtures || fixtures.error) throw new Error(fixtures?.error ?? 'pdfFixtures were not provided by global setup');
  return fixtures;
}

/** The base64 bytes of one fixture file. */
export function pdfFixture(file: string): string {
  const data = pdfFixtures().files[file];
  if (data === undefined) throw new Error(`PDF fixture ${file} is missing from ${pdfFixtures().dir}`);
  return data;
}
