import { router } from './init';
import { chatRouter } from './routers/chat';
import { exportRouter } from './routers/export';
import { feedbackRouter } from './routers/feedback';
import { personaRouter } from './routers/persona';
import { searchRouter } from './routers/search';
import { sourceRouter } from './routers/source';
import { usageRouter } from './routers/usage';
import { webhooksRouter } from './routers/webhooks';
import { widgetRouter } from './routers/widget';

export const appRouter = router({
  chat: chatRouter,
  persona: personaRouter,
  feedback: feedbackRouter,
  search: searchRouter,
  export: exportRouter,
  widget: widgetRouter,
  source: sourceRouter,
  usage: usageRouter,
  webhooks: webhooksRouter,
});

export type AppRouter = typeof appRouter;
