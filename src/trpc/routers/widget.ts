import { z } from 'zod';
import { signVisitorToken, verifyUserHash } from '../../auth/visitor-token';
import { insertSession } from '../../db/queries/sessions';
import { AppError } from '../../errors';
import { newId } from '../../ids';
import { id, text } from '../../inputs/common';
import { sessionView } from '../../views/session';
import { kickOutbox } from '../../webhooks/dispatch';
import { authedProcedure, router } from '../init';

export const widgetRouter = router({
  /**
   * A website visitor starts a WIDGET session with one of the key's personas and gets the visitor
   * token that lets it chat in that session only. Publishable keys only (via /widget/v1/<key>/trpc).
   * With `userId` + `userHash` (hex HMAC-SHA256 of the user id with the organization's identity secret,
   * computed by the organization's backend) the session is linked to that user; otherwise anonymous.
   */
  startSession: authedProcedure
    .input(
      z.object({
        personaId: id,
        userId: text(200).pipe(z.string().trim().min(1, 'must not be empty')).optional(),
        userHash: z
          .string()
          .regex(/^[0-9a-fA-F]{64}$/, 'must be a hex HMAC-SHA256')
          .optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const key = ctx.publishable?.key;
      if (!key) {
        throw new AppError(
          'FORBIDDEN',
          'widget.startSession takes a publishable key (under /widget/v1/<key>/trpc); with a secret key use chat.createSession.',
        );
      }
      if (!key.allowedPersonaIds.includes(input.personaId)) {
        throw new AppError('FORBIDDEN', `This widget key may not use persona ${input.personaId}.`);
      }
      let userId: string | null = null;
      if (input.userId !== undefined || input.userHash !== undefined) {
        const ok =
          input.userId !== undefined &&
          input.userHash !== undefined &&
          (await verifyUserHash(
            ctx.config.auth.visitorTokenSecret,
            ctx.auth.organizationId,
            input.userId,
            input.userHash,
          ));
        if (!ok) {
          throw new AppError(
            'FORBIDDEN',
            "userId needs a matching userHash made with the organization's identity secret; anonymous visitors send neither.",
          );
        }
        userId = input.userId ?? null;
      }
      const created = await insertSession(ctx.db, ctx.auth.organizationId, {
        id: newId('session'),
        personaId: input.personaId,
        title: null,
        platform: 'WIDGET',
        userId,
        greetingMessageId: newId('message'),
        idempotency: undefined,
      });
      if (!created.session) throw new AppError('NOT_FOUND', `Persona ${input.personaId} not found.`);
      if (created.webhookEvents > 0) kickOutbox({ ...ctx, organizationId: ctx.auth.organizationId });
      const expiresAt = Math.floor(Date.now() / 1000) + ctx.config.auth.visitorTokenTtlSeconds;
      const visitorToken = await signVisitorToken(ctx.config.auth.visitorTokenSecret, {
        o: ctx.auth.organizationId,
        k: key.id,
        s: created.session.id,
        u: userId,
        exp: expiresAt,
      });
      return {
        session: sessionView(created.session),
        visitorToken,
        visitorTokenExpiresAt: new Date(expiresAt * 1000).toISOString(),
      };
    }),
});
