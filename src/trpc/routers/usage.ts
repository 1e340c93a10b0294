import { usageInput, usageReport } from '../../services/usage';
import { authedProcedure, router } from '../init';

export const usageRouter = router({
  /**
   * What the organization used per UTC day and persona (sessions started, messages, replies, model
   * calls, tokens, attachment bytes) from `from` to `to` inclusive, at most 366 days, with totals.
   */
  get: authedProcedure.input(usageInput).query(({ ctx, input }) => usageReport(ctx.db, ctx.auth.organizationId, input)),
});
