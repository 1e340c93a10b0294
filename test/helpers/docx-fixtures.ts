/** The Word fixtures (test/fixtures/docx, origins in its README), read by test/node/global-setup.ts. */
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** test/fixtures/docx/*.docx as base64, by file name. */
    docxFixtures: Record<string, string>;
  }
}

export function docxFixture(name: string): string {
  const data = inject('docxFixtures')?.[name];
  if (data === undefined) throw new Error(`Word fixture ${name} is missing from test/fixtures/docx`);
  return data;
}
