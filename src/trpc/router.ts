import { router } from './init';
import { chatRouter } from './routers/chat';
import { exportRouter } from './routers/export';
import { feedbackRouter } from './routers/feedback';
import { personaRouter } from './routers/persona';
import { searchRouter } from './routers/search';
import { usageRouter } from './routers/usage';

export const appRouter = router({
  chat: chatRouter,
  persona: personaRouter,
  feedback: feedbackRouter,
  search: searchRouter,
  export: exportRouter,
  usage: usageRouter,
});

export type AppRouter = typeof appRouter;
