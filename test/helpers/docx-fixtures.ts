/**
 * The Word fixtures (test/fixtures/docx) and the Excel and PowerPoint ones (test/fixtures/office),
 * origins in each folder's README, read by test/node/global-setup.ts.
 */
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** test/fixtures/docx/*.docx as base64, by file name. */
    docxFixtures: Record<string, string>;
    /** test/fixtures/office/*.xlsx and *.pptx as base64, by file name. */
    officeFixtures: Record<string, string>;
  }
}

function fixture(key: 'docxFixtures' | 'officeFixtures', name: string): string {
  const data = inject(key)?.[name];
  if (data === undefined)
    throw new Error(`fixture ${name} is missing (${key}: test/fixtures/docx, test/fixtures/office)`);
  return data;
}

export const docxFixture = (name: string) => fixture('docxFixtures', name);
export const officeFixture = (name: string) => fixture('officeFixtures', name);
