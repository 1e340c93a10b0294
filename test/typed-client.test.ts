import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
} from '@trpc/client';
import { describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/trpc/router';
import { wireFormat } from '../src/trpc/wire';
import { authHeaders, createTenant, type Tenant } from './helpers/api';
import { FetchEventSource } from './helpers/event-source';
import { worker } from './helpers/worker';

function client(tenant: Tenant, batch = false) {
  const options = {
    url: 'http://api.test/api/trpc',
    transformer: wireFormat,
    headers: () => authHeaders(tenant),
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      worker.fetch(new Request(input as string, init))) as typeof fetch,
  };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: options.url,
          transformer: wireFormat,
          EventSource: FetchEventSource,
          eventSourceOptions: () => ({ headers: authHeaders(tenant), fetch: options.fetch }),
        }),
        false: batch ? httpBatchLink(options) : httpLink(options),
      }),
    ],
  });
}

/** The exported AppRouter type drives a real @trpc/client against the Worker. */
describe('typed tRPC client', () => {
  it('calls every query, mutation and subscription with inferred types', async () => {
    const tenant = await createTenant();
    const api = client(tenant);

    const persona = await api.persona.create.mutate({ name: 'Typed Tess', instructions: 'Be typed.' });
    const personaName: string = persona.name;
    expect(personaName).toBe('Typed Tess');
    expect((await api.persona.get.query({ id: persona.id })).version).toBe(1);
    expect((await api.persona.update.mutate({ id: persona.id, description: 'typed' })).version).toBe(2);
    expect((await api.persona.list.query({})).map((p) => p.id)).toEqual([persona.id]);

    const session = await api.chat.createSession.mutate({ personaId: persona.id, title: 'Typed', platform: 'API' });
    const count: number = session._count.messages;
    expect(count).toBe(0);
    const reply = await api.chat.sendMessage.mutate({
      chatSessionId: session.id,
      content: 'typed hello',
      role: 'USER',
    });
    expect(reply.role).toBe('ASSISTANT');
    expect((await api.chat.listSessions.query({})).map((s) => s.id)).toEqual([session.id]);
    const full = await api.chat.getSession.query({ id: session.id });
    expect(full.messages.map((m) => m.role)).toEqual(['USER', 'ASSISTANT']);
    expect((await api.chat.listMessages.query({ chatSessionId: session.id, limit: 1 })).length).toBe(1);
    expect((await api.chat.updateSession.mutate({ id: session.id, title: 'Renamed' })).title).toBe('Renamed');

    // Subscriptions, through httpSubscriptionLink: a streamed send, then following the finished reply.
    const events: string[] = [];
    let streamed = '';
    await new Promise<void>((resolve, reject) => {
      const sub = api.chat.streamMessage.subscribe(
        { chatSessionId: session.id, content: 'typed stream' },
        {
          onData: ({ data: event }) => {
            events.push(event.type);
            if (event.type === 'delta') streamed += event.text;
            if (event.type === 'reply') {
              expect(event.message.content).toBe(streamed);
              sub.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    expect(events[0]).toBe('message');
    expect(events.filter((t) => t === 'delta').length).toBeGreaterThan(1);
    const followed = await new Promise<string>((resolve, reject) => {
      const sub = api.chat.resumeReply.subscribe(
        { messageId: reply.id },
        {
          onData: ({ data: event }) => {
            if (event.type === 'reply') {
              sub.unsubscribe();
              resolve(event.message.content);
            }
          },
          onError: reject,
        },
      );
    });
    expect(followed).toBe(reply.content);

    const conflict = await api.chat.stopReply.mutate({ messageId: reply.id }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(TRPCClientError);
    expect((conflict as TRPCClientError<AppRouter>).data?.httpStatus).toBe(409);

    expect(await api.chat.deleteSession.mutate({ id: session.id })).toEqual({ id: session.id, deleted: true });
    expect(await api.persona.delete.mutate({ id: persona.id })).toEqual({ id: persona.id, deleted: true });
  });

  it('works with request batching too', async () => {
    const tenant = await createTenant();
    const api = client(tenant, true);
    const [a, b] = await Promise.all([
      api.persona.create.mutate({ name: 'A' }),
      api.persona.create.mutate({ name: 'B' }),
    ]);
    const [list, missing] = await Promise.all([
      api.persona.list.query({}),
      api.persona.get.query({ id: 'persona_missing' }).catch((e: TRPCClientError<AppRouter>) => e.data?.httpStatus),
    ]);
    expect(list.map((p) => p.id).sort()).toEqual([a.id, b.id].sort());
    expect(missing).toBe(404);
  });
});
