import { router } from './init';
import { chatRouter } from './routers/chat';
import { personaRouter } from './routers/persona';
import { widgetRouter } from './routers/widget';

export const appRouter = router({
  chat: chatRouter,
  persona: personaRouter,
  widget: widgetRouter,
});

export type AppRouter = typeof appRouter;
