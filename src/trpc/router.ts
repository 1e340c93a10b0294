import { router } from './init';
import { chatRouter } from './routers/chat';
import { personaRouter } from './routers/persona';
import { sourceRouter } from './routers/source';

export const appRouter = router({
  chat: chatRouter,
  persona: personaRouter,
  source: sourceRouter,
});

export type AppRouter = typeof appRouter;
