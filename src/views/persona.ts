import type { getPersona } from '../db/queries/personas';
import { iso } from './dates';

type PersonaRow = NonNullable<Awaited<ReturnType<typeof getPersona>>>;

export function personaView(p: PersonaRow) {
  return {
    id: p.id,
    organizationId: p.organizationId,
    name: p.name,
    avatarUrl: p.avatarUrl,
    description: p.description,
    instructions: p.instructions,
    model: p.model,
    temperature: p.temperature,
    maxOutputTokens: p.maxOutputTokens,
    greeting: p.greeting,
    version: p.version,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export type PersonaView = ReturnType<typeof personaView>;
