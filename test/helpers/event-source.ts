import { sseMessages } from './sse';

/**
 * A minimal EventSource for workerd (which has none) that can send headers and use a given fetch:
 * what tRPC's httpSubscriptionLink needs to talk to the Worker under test, as a browser would.
 */
type Listener = (event: { data: string; lastEventId: string; type: string }) => void;
export type FetchEventSourceInit = { headers?: Record<string, string>; fetch: typeof fetch };

export class FetchEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 2;
  readyState = 0;
  readonly url: string;
  readonly withCredentials = false;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly abort = new AbortController();

  constructor(url: string | URL, init: FetchEventSourceInit) {
    this.url = String(url);
    void this.run(init);
  }

  addEventListener(type: string, listener: Listener): void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener);
    this.listeners.set(type, set);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  close(): void {
    this.readyState = FetchEventSource.CLOSED;
    this.abort.abort();
  }

  private emit(type: string, data = '', lastEventId = ''): void {
    for (const listener of this.listeners.get(type) ?? []) listener({ data, lastEventId, type });
  }

  private async run(init: FetchEventSourceInit): Promise<void> {
    try {
      const res = await init.fetch(this.url, {
        headers: { accept: 'text/event-stream', ...init.headers },
        signal: this.abort.signal,
      });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      this.readyState = FetchEventSource.OPEN;
      this.emit('open');
      for await (const message of sseMessages(res.body)) {
        this.emit(message.event ?? 'message', message.data, message.id ?? '');
      }
    } catch {
      // aborted by close(), or the connection failed: reported below
    }
    if (this.readyState !== FetchEventSource.CLOSED) {
      this.readyState = FetchEventSource.CLOSED;
      this.emit('error');
    }
  }
}
