export type SseEvent = { id?: string; event?: string; data?: any; chunk: number };

/**
 * Reads a server-sent-events body incrementally. `chunk` numbers each network read, so a test can
 * tell events that arrived separately from ones that arrived together at the end.
 * `until` may return true to stop reading (the connection is then cancelled, like a client leaving).
 */
export async function readSse(res: Response, until?: (event: SseEvent, all: SseEvent[]) => boolean) {
  const events: SseEvent[] = [];
  if (!res.body) return events;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let chunk = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunk++;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const event: SseEvent = { chunk };
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).trimStart();
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') {
          try {
            event.data = JSON.parse(value);
          } catch {
            event.data = value;
          }
        }
      }
      if (event.data === undefined && event.event === undefined) continue;
      events.push(event);
      if (until?.(event, events)) {
        await reader.cancel();
        return events;
      }
    }
  }
  return events;
}
