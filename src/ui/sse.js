// @ts-check
/**
 * The one reader of server-sent events for the browser code: the playground imports it as an ES module,
 * and GET /widget.js inlines it into the widget's classic script (src/routes/ui-assets.ts). tRPC
 * subscriptions (chat.streamMessage, chat.resumeReply) are read through fetch + ReadableStream because
 * EventSource cannot send the X-API-Key / X-Visitor-Token headers.
 *
 * Keep this file self-contained (no imports, one export): in the widget it shares one scope with the
 * widget's own files.
 */

/** @typedef {{ event: string, data: string, id: string }} SseEvent */

/**
 * Yields each event of an SSE body as it arrives. Blocks end at a blank line; `event` defaults to
 * "message" and multi-line `data` is joined with "\n", as in the HTML standard; events without data
 * (comments, keep-alives) are skipped. Leaving the loop early cancels the response body.
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<SseEvent, void, undefined>}
 */
export async function* readSse(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        /** @type {SseEvent} */
        const event = { event: 'message', data: '', id: '' };
        const data = [];
        for (const raw of block.split('\n')) {
          const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
          const colon = line.indexOf(':');
          if (colon <= 0) continue; // a comment (": ping") or a line without a field
          const field = line.slice(0, colon);
          const value = line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1);
          if (field === 'data') data.push(value);
          else if (field === 'event') event.event = value;
          else if (field === 'id') event.id = value;
        }
        if (data.length === 0) continue;
        event.data = data.join('\n');
        yield event;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
