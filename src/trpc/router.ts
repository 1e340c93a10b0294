import { router } from './init';
import { chatRouter } from './routers/chat';
import { personaRouter } from './routers/persona';

export const appRouter = router({
  chat: chatRouter,
  persona: personaRouter,
});

export type AppRouter = typeof appRouter;
