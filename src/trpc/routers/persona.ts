import { z } from 'zod';
import { getPersona, insertPersona, listPersonas, softDeletePersona, updatePersona } from '../../db/queries/personas';
import { AppError } from '../../errors';
import { newId } from '../../ids';
import { cursor, id, limit, text } from '../../inputs/common';
import { personaView } from '../../views/persona';
import { authedProcedure, router } from '../init';

const fields = {
  name: text(100).pipe(z.string().trim().min(1, 'must not be empty')),
  avatarUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048)
    .nullish(),
  description: text(2_000).nullish(),
  instructions: text(20_000),
  model: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[\w.:/@-]+$/, 'must be a model id')
    .nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  maxOutputTokens: z.number().int().min(1).max(128_000).nullish(),
  greeting: text(4_000).nullish(),
};

const notFound = (personaId: string) => new AppError('NOT_FOUND', `Persona ${personaId} not found.`);

export const personaRouter = router({
  create: authedProcedure
    .input(z.object({ ...fields, instructions: fields.instructions.default('') }))
    .mutation(async ({ ctx, input }) => {
      const row = await insertPersona(ctx.db, ctx.auth.organizationId, newId('persona'), input);
      if (!row) throw new AppError('INTERNAL', 'Persona insert returned no row.');
      return personaView(row);
    }),

  list: authedProcedure
    .input(z.object({ limit: limit(100, 50), cursor }).default({ limit: 50 }))
    .query(async ({ ctx, input }) => {
      const rows = await listPersonas(ctx.db, ctx.auth.organizationId, input);
      return rows.map(personaView);
    }),

  get: authedProcedure.input(z.object({ id })).query(async ({ ctx, input }) => {
    const row = await getPersona(ctx.db, ctx.auth.organizationId, input.id);
    if (!row) throw notFound(input.id);
    return personaView(row);
  }),

  update: authedProcedure
    .input(
      z
        .object({ id, ...fields, name: fields.name.optional(), instructions: fields.instructions.optional() })
        .refine((v) => Object.keys(v).some((k) => k !== 'id'), 'Nothing to update: send at least one field.'),
    )
    .mutation(async ({ ctx, input }) => {
      const { id: personaId, ...changes } = input;
      const row = await updatePersona(ctx.db, ctx.auth.organizationId, personaId, changes);
      if (!row) throw notFound(personaId);
      return personaView(row);
    }),

  delete: authedProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    const row = await softDeletePersona(ctx.db, ctx.auth.organizationId, input.id);
    if (!row) throw notFound(input.id);
    return { id: row.id, deleted: true as const };
  }),
});
