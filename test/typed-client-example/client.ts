import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import type { AppRouter } from 'conversations-api/src/trpc/router';
import { wireFormat } from 'conversations-api/src/trpc/wire';
import { EventSource } from 'eventsource';

const url = 'http://127.0.0.1:8787/api/trpc';
const headers = { 'X-API-Key': process.env.API_KEY ?? '', 'X-Organization-ID': process.env.ORG_ID ?? '' };

export const api = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      // Node's fetch-based EventSource from the `eventsource` package: its `fetch` option adds the headers.
      true: httpSubscriptionLink({
        url,
        transformer: wireFormat,
        EventSource,
        eventSourceOptions: () => ({
          fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
        }),
      }),
      false: httpLink({ url, transformer: wireFormat, headers }),
    }),
  ],
});

const session = await api.chat.createSession.mutate({ personaId: process.env.PERSONA_ID ?? '', platform: 'API' });
const owner: string | null = session.userId; // null unless the session was created with a userId
const reply = await api.chat.sendMessage.mutate({ chatSessionId: session.id, content: 'Hello!' });
console.log(owner, reply.status, reply.content);

const sub = api.chat.streamMessage.subscribe(
  { chatSessionId: session.id, content: 'Tell me more.' },
  {
    onData: ({ data: event }) => {
      if (event.type === 'delta') process.stdout.write(event.text);
      if (event.type === 'reply') {
        console.log(`\n[${event.message.status}]`);
        sub.unsubscribe();
      }
    },
    onError: (error) => console.error(error.message),
  },
);
