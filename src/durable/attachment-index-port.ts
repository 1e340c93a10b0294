import type { Env } from '../env';
import type { AttachmentIndexPort } from '../services/turn-types';
import { attachmentBlobKey } from '../sources/job';
import type { IndexWaiters } from './index-waiters';

/** A turn's side of attachment indexing: the queue and the bucket from the object's env, its waiters. */
export function attachmentIndexPort(
  env: Env,
  organizationId: string,
  waiters: IndexWaiters,
): AttachmentIndexPort | undefined {
  const queue = env.SOURCE_QUEUE;
  const blobs = env.SOURCE_BLOBS;
  if (!queue || !blobs) return undefined;
  return {
    expect: (ids) => waiters.expect(ids),
    queue: async (jobs) => {
      await queue.sendBatch(jobs.map((body) => ({ body, contentType: 'json' })));
    },
    discard: async (ids) => {
      await blobs.delete(ids.map((id) => attachmentBlobKey(organizationId, id)));
    },
  };
}
