import type { ExportedMessage, PersonaSnapshot } from '../db/queries/export';
import type { SessionRow } from '../db/queries/sessions';
import { iso, isoOrNull } from './dates';
import { feedbackView } from './feedback';
import { messageView } from './message';
import { sessionView } from './session';

/** Names the document so an import can tell it from anything else. */
export const EXPORT_FORMAT = 'persona-conversations.session';
export const EXPORT_VERSION = 1;

type Page = {
  session: SessionRow;
  persona: PersonaSnapshot;
  messages: ExportedMessage[];
  nextCursor: string | null;
};

export function personaSnapshotView(p: PersonaSnapshot) {
  return { ...p, createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt), deletedAt: isoOrNull(p.deletedAt) };
}

/** The lossless JSON export: every stored field of the session, its persona and its messages. */
export function exportJsonView(page: Page, cursor: string | null) {
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: new Date().toISOString(),
    session: sessionView(page.session),
    persona: personaSnapshotView(page.persona),
    messages: page.messages.map((m) => ({
      ...messageView(m),
      feedback: m.feedback ? feedbackView(m.feedback) : null,
      // Only on a reply version not in use (chat.regenerate): other messages keep their shape.
      ...(m.supersededAt ? { supersededAt: iso(m.supersededAt) } : {}),
    })),
    page: { cursor, nextCursor: page.nextCursor, complete: page.nextCursor === null },
  };
}

const roleLabel = (m: ExportedMessage, persona: string) =>
  m.role === 'USER' ? 'User' : m.role === 'ASSISTANT' ? persona : 'System';

/**
 * A readable transcript. Message text is written as it was sent (it is usually Markdown already);
 * the header lines are ours. The first page carries the title block, later pages only messages.
 */
export function exportMarkdownView(page: Page, cursor: string | null) {
  const s = page.session;
  const lines: string[] = [];
  if (!cursor) {
    lines.push(`# ${(s.title ?? '').replace(/\s+/g, ' ').trim() || `Chat session ${s.id}`}`, '');
    lines.push(
      `- Session: \`${s.id}\` · ${s.platform} · ${s.status} · created ${iso(s.createdAt)}`,
      `- Persona: ${page.persona.name} (\`${page.persona.id}\`, version ${page.persona.version})`,
    );
    if (s.userId) lines.push(`- User: \`${s.userId.replaceAll('`', "'")}\``);
    lines.push(`- Messages: ${s.messageCount}`, '');
  }
  for (const m of page.messages) {
    const notes: string[] = [iso(m.createdAt)];
    if (m.status !== 'COMPLETE') notes.push(m.status);
    if (m.supersededAt) notes.push('earlier version, not in use');
    if (m.feedback) {
      const why = [m.feedback.reason, m.feedback.comment].filter(Boolean).join(': ');
      notes.push(`rated ${m.feedback.rating === 'UP' ? '👍' : '👎'}${why ? ` (${why.replace(/\s+/g, ' ')})` : ''}`);
    }
    lines.push('---', '', `### ${roleLabel(m, page.persona.name)} · ${notes.join(' · ')}`, '', m.content, '');
    for (const a of m.attachments ?? []) {
      const pages = a.pageCount === null ? '' : `, ${a.pageCount} pages`;
      lines.push(`- 📎 ${a.filename} (${a.declaredType}${pages}, ${a.byteSize} bytes)`);
    }
    if (m.attachments?.length) lines.push('');
  }
  return {
    format: 'markdown' as const,
    markdown: lines.join('\n'),
    page: { cursor, nextCursor: page.nextCursor, complete: page.nextCursor === null },
  };
}
