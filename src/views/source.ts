import type { SourceRow } from '../db/queries/sources';
import { iso } from './dates';

export function sourceView(s: SourceRow) {
  return {
    id: s.id,
    organizationId: s.organizationId,
    personaId: s.personaId,
    filename: s.filename,
    mimeType: s.mimeType,
    byteSize: s.byteSize,
    sha256: s.sha256,
    /** PENDING while the ingestion queue works on it, then READY or FAILED. */
    status: s.status as 'PENDING' | 'READY' | 'FAILED',
    error: s.status === 'FAILED' ? { code: s.failureCode ?? 'INGESTION_FAILED', message: s.failureReason ?? '' } : null,
    pageCount: s.pageCount,
    pagesIndexed: s.pagesIndexed,
    charCount: s.charCount,
    chunkCount: s.chunkCount,
    attempts: s.attempts,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
    readyAt: s.readyAt ? iso(s.readyAt) : null,
  };
}

export type SourceView = ReturnType<typeof sourceView>;
