/**
 * Replies being generated in this isolate, so a stop request that lands here takes effect at once.
 * The stop is only flagged here: workerd binds I/O to the request that started it, so the
 * generating request itself must do the aborting (it polls the flag). A stop that lands in another
 * isolate reaches the generator through the database instead (the reply's status becomes STOPPED
 * and the next progress save sees it, within a second).
 */
const running = new Map<string, { stopRequested: boolean }>();

export function registerReply(id: string): { stopRequested: boolean } {
  const entry = { stopRequested: false };
  running.set(id, entry);
  return entry;
}

export function unregisterReply(id: string): void {
  running.delete(id);
}

export function requestLocalStop(id: string): boolean {
  const entry = running.get(id);
  if (entry) entry.stopRequested = true;
  return entry !== undefined;
}
