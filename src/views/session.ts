import type { SessionRow } from '../db/queries/sessions';
import { iso, isoOrNull } from './dates';

/** The contract's Chat session, without messages (listSessions, createSession, updateSession). */
export function sessionView(s: SessionRow) {
  return {
    id: s.id,
    title: s.title,
    personaId: s.personaId,
    userId: s.userId,
    platform: s.platform,
    status: s.status,
    organizationId: s.organizationId,
    lastActivityAt: iso(s.lastActivityAt),
    archivedAt: isoOrNull(s.archivedAt),
    archiveReason: s.archiveReason,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
    persona: { id: s.personaId, name: s.personaName, avatarUrl: s.personaAvatarUrl },
    _count: { messages: s.messageCount },
  };
}

export type SessionView = ReturnType<typeof sessionView>;
