/// <reference types="vite/client" />
/**
 * Cost guard: unpdf (pdf.js, most of the bundle) must only be loaded by a dynamic import() in
 * src/attachments/pdf.ts (the one bounded reader, which knowledge ingestion on the queue uses too),
 * so requests without PDFs never parse or evaluate it.
 */
import { describe, expect, it } from 'vitest';

const sources = import.meta.glob<string>('../src/**/*.ts', { query: '?raw', import: 'default', eager: true });

describe('unpdf is loaded lazily', () => {
  it('is imported only dynamically, and only by src/attachments/pdf.ts', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(10);
    const importers = Object.entries(sources)
      .filter(([, text]) => /['"]unpdf(\/[^'"]*)?['"]/.test(text))
      .map(([path]) => path);
    expect(importers).toEqual(['../src/attachments/pdf.ts']);
    for (const file of importers) {
      const text = sources[file] ?? '';
      expect(text, file).toMatch(/await import\('unpdf'\)/);
      // No static import (a type-only import is erased and would be fine, but there is no need for one).
      expect(text, file).not.toMatch(/^\s*import\b[^;]*from\s*['"]unpdf/m);
    }
  });
});
