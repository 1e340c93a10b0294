import type { IndexWait } from '../services/turn-types';

/**
 * The turns of one session object waiting for attachments to be indexed on the queue, keyed by
 * attachment id. The queue's notice (ChatSession.attachmentIndexed) settles them; a notice nobody
 * waits for is dropped (the turn gave up, and later turns read the index from Postgres anyway).
 */
export class IndexWaiters {
  private readonly waiting = new Map<string, () => void>();

  /** Starts listening now, so a notice arriving before `wait` is called is not missed. */
  expect(ids: string[]): IndexWait {
    const pending = new Set(ids);
    let wake: (() => void) | undefined;
    for (const id of ids) {
      this.waiting.set(id, () => {
        pending.delete(id);
        this.waiting.delete(id);
        if (pending.size === 0) wake?.();
      });
    }
    return async (timeoutMs, signal) => {
      if (pending.size > 0 && timeoutMs > 0 && !signal?.aborted) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          wake = done;
          signal?.addEventListener('abort', done, { once: true });
        });
      }
      for (const id of ids) this.waiting.delete(id);
      return [...pending];
    };
  }

  /** The queue finished (READY or FAILED) with this attachment. */
  indexed(attachmentId: string): void {
    this.waiting.get(attachmentId)?.();
  }
}
