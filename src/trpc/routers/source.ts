import { z } from 'zod';
import { attachmentInput } from '../../attachments/input';
import { deleteSource, getSource, listChunks, listSources } from '../../db/queries/sources';
import { AppError } from '../../errors';
import { cursor, id, limit } from '../../inputs/common';
import { log } from '../../log';
import { addSource } from '../../sources/add';
import { sourceView } from '../../views/source';
import { authedProcedure, router } from '../init';

const notFound = (sourceId: string) => new AppError('NOT_FOUND', `Source ${sourceId} not found.`);

/** Knowledge sources: documents a persona knows in all its sessions (README "Knowledge"). */
export const sourceRouter = router({
  /** Stores the document and answers PENDING at once; ingestion runs on a queue. */
  add: authedProcedure
    .input(attachmentInput.omit({ password: true }).extend({ personaId: id }))
    .mutation(async ({ ctx, input }) => sourceView(await addSource(ctx, input))),

  list: authedProcedure
    .input(z.object({ personaId: id, limit: limit(100, 50), cursor }))
    .query(async ({ ctx, input }) => {
      const rows = await listSources(ctx.db, ctx.auth.organizationId, input);
      return rows.map(sourceView);
    }),

  /** Status, pages and errors; with `includeChunks`, a page of its chunks in document order. */
  get: authedProcedure
    .input(
      z.object({
        id,
        includeChunks: z.boolean().default(false),
        chunksFrom: z.number().int().min(0).max(1_000_000).default(0),
        chunksLimit: limit(100, 20),
      }),
    )
    .query(async ({ ctx, input }) => {
      const row = await getSource(ctx.db, ctx.auth.organizationId, input.id);
      if (!row) throw notFound(input.id);
      const chunks = input.includeChunks
        ? await listChunks(ctx.db, ctx.auth.organizationId, row.id, {
            from: input.chunksFrom,
            limit: input.chunksLimit,
          })
        : undefined;
      return { ...sourceView(row), ...(chunks ? { chunks } : {}) };
    }),

  /** Deletes the source and its chunks (one statement), then its stored bytes. */
  delete: authedProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    const row = await deleteSource(ctx.db, ctx.auth.organizationId, input.id);
    if (!row) throw notFound(input.id);
    // The row is gone, so nothing can read the blob any more; a failed delete only leaves garbage.
    ctx.waitUntil(
      (ctx.env.SOURCE_BLOBS?.delete(row.blobKey) ?? Promise.resolve()).catch((error: unknown) =>
        log('warn', ctx, 'source.blob_delete_failed', { sourceId: row.id }, error),
      ),
    );
    return { id: row.id, deleted: true as const };
  }),
});
