import { decodeBase64 } from '../attachments/base64';
import { checkUpload, SUPPORTED_TYPES } from '../attachments/mime';
import { sha256Hex } from '../auth/keys';
import type { SourceLimits } from '../config';
import type { AuthedContext } from '../context';
import { deleteSource, type InsertRefusal, insertSourceWithinLimits, type SourceRow } from '../db/queries/sources';
import { AppError } from '../errors';
import { newId } from '../ids';
import { DOCX_TYPE } from './extract';

/** The attachment types, and Word documents. */
const SOURCE_TYPES = [...SUPPORTED_TYPES, DOCX_TYPE];

export type AddSourceInput = { personaId: string; filename: string; mimeType: string; data: string };

/** Why the source was not added, as the caller is told it. */
function refusalError(
  result: { refusal: InsertRefusal; count: number; totalBytes: number },
  input: AddSourceInput,
  byteSize: number,
  limits: SourceLimits,
): AppError {
  if (result.refusal === 'PERSONA_NOT_FOUND') return new AppError('NOT_FOUND', `Persona ${input.personaId} not found.`);
  if (result.refusal === 'TOO_MANY_SOURCES') {
    return new AppError(
      'CONFLICT',
      `Persona ${input.personaId} has ${result.count} sources; the limit is ${limits.maxPerPersona} per persona. Delete one first.`,
    );
  }
  return new AppError(
    'PAYLOAD_TOO_LARGE',
    `This organization's sources total ${result.totalBytes} bytes; adding ${byteSize} more would pass the limit of ${limits.maxTotalBytes} bytes.`,
  );
}

/**
 * Adds a knowledge source: checks what is cheap to check (type, size, base64, limits), stores the
 * bytes in R2 and a PENDING row, and enqueues its ingestion. Parsing happens on the queue, so this
 * answers at once whatever the document's size. If storing the bytes or enqueueing fails, the row
 * and the blob are removed again: the request leaves nothing behind.
 */
export async function addSource(ctx: AuthedContext, input: AddSourceInput): Promise<SourceRow> {
  const { env, db, auth } = ctx;
  const blobs = env.SOURCE_BLOBS;
  const jobs = env.SOURCE_QUEUE;
  if (!blobs || !jobs) {
    throw new AppError('INTERNAL', 'Knowledge sources are not configured (SOURCE_BLOBS / SOURCE_QUEUE bindings).');
  }
  const limits = ctx.config.sources;
  checkUpload('Source', input, SOURCE_TYPES, limits.maxBytes);
  const bytes = decodeBase64(`Source "${input.filename}"`, input.data);
  if (bytes.length === 0) throw new AppError('BAD_REQUEST', `Source "${input.filename}" is empty.`);

  const id = newId('source');
  const blobKey = `${auth.organizationId}/${id}`;
  const result = await insertSourceWithinLimits(
    db,
    auth.organizationId,
    {
      id,
      personaId: input.personaId,
      filename: input.filename,
      mimeType: input.mimeType,
      byteSize: bytes.length,
      sha256: await sha256Hex(bytes),
      blobKey,
    },
    limits,
  );
  if ('refusal' in result) throw refusalError(result, input, bytes.length, limits);
  try {
    await blobs.put(blobKey, bytes, { httpMetadata: { contentType: input.mimeType } });
    await jobs.send({ organizationId: auth.organizationId, sourceId: id }, { contentType: 'json' });
  } catch (error) {
    await Promise.allSettled([deleteSource(db, auth.organizationId, id), blobs.delete(blobKey)]);
    throw new AppError('DATABASE_UNAVAILABLE', 'The document could not be stored for ingestion; please retry.', {
      cause: error,
    });
  }
  return result.row;
}
