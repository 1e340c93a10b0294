import { encodeEvent, type WireEvent } from '../services/turn-wire';

/** One reader of a session object's events: an RPC stream of JSON lines. */
export class Listener {
  readonly stream: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  closed = false;

  constructor(onCancel: (listener: Listener) => void) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        // The client left: stop writing to it; the generation carries on.
        this.closed = true;
        onCancel(this);
      },
    });
  }

  /** Characters of the reply this listener already has (it resumed from there): not sent again. */
  skipTo = 0;

  send(event: WireEvent): void {
    if (this.closed) return;
    if (event.type === 'delta' && event.offset < this.skipTo) {
      const skip = this.skipTo - event.offset;
      if (skip >= event.text.length) return;
      event = { ...event, offset: this.skipTo, text: event.text.slice(skip) };
    }
    try {
      this.controller?.enqueue(encodeEvent(event));
    } catch {
      this.closed = true;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.controller?.close();
    } catch {
      // already errored or cancelled
    }
  }
}
