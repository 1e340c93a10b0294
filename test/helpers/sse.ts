export type SseEvent = { id?: string; event?: string; data?: any; chunk: number };
export type SseBlock = { chunk: number; event: string | undefined; id: string | undefined; data: string[] };

/**
 * The events of a server-sent-events body as they arrive. `chunk` numbers each network read, so a
 * test can tell events that arrived separately from ones that arrived together at the end. Leaving
 * the loop cancels the body, like a client closing the connection.
 */
export async function* sseBlocks(body: ReadableStream<Uint8Array>): AsyncGenerator<SseBlock> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let chunk = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      chunk++;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block: SseBlock = { chunk, event: undefined, id: undefined, data: [] };
        for (const line of buffer.slice(0, end).split('\n')) {
          const colon = line.indexOf(':');
          if (colon <= 0) continue;
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') block.event = value;
          else if (field === 'id') block.id = value;
          else if (field === 'data') block.data.push(value);
        }
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        yield block;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * Reads a server-sent-events body into events with JSON data parsed. `until` may return true to stop
 * reading (the connection is then cancelled, like a client leaving).
 */
export async function readSse(res: Response, until?: (event: SseEvent, all: SseEvent[]) => boolean) {
  const events: SseEvent[] = [];
  if (!res.body) return events;
  for await (const block of sseBlocks(res.body)) {
    if (block.data.length === 0 && block.event === undefined) continue;
    const event: SseEvent = { chunk: block.chunk };
    if (block.id !== undefined) event.id = block.id;
    if (block.event !== undefined) event.event = block.event;
    if (block.data.length) {
      const text = block.data.join('\n');
      try {
        event.data = JSON.parse(text);
      } catch {
        event.data = text;
      }
    }
    events.push(event);
    if (until?.(event, events)) break;
  }
  return events;
}
