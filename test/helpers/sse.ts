import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * One server-sent event as a test reads it. `data` is the event's JSON (the shapes differ by stream:
 * tRPC turn events, UI message chunks, serialized errors), or its text when not JSON. `chunk`
 * numbers the network read that completed the event, so a test can tell events that arrived
 * separately from ones that arrived together at the end.
 */
export type SseEvent = { id?: string; event?: string; data?: SseData; chunk: number };

/** An event's JSON: tests read the fields they expect and let the assertions catch the rest. */
export type SseData = any;

/**
 * The events of a server-sent-events body as they arrive, parsed by eventsource-parser. Leaving the
 * loop cancels the body, like a client closing the connection.
 */
export async function* sseMessages(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<EventSourceMessage & { chunk: number }> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const ready: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => ready.push(message) });
  let chunk = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      chunk++;
      parser.feed(value);
      while (ready.length) {
        const message = ready.shift() as EventSourceMessage;
        yield { ...message, chunk };
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
  for await (const message of sseMessages(res.body)) {
    const event: SseEvent = { chunk: message.chunk };
    if (message.id !== undefined) event.id = message.id;
    if (message.event !== undefined) event.event = message.event;
    try {
      event.data = JSON.parse(message.data);
    } catch {
      event.data = message.data;
    }
    events.push(event);
    if (until?.(event, events)) break;
  }
  return events;
}
