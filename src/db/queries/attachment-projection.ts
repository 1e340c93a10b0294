import { type SQL, sql } from 'drizzle-orm';

/**
 * The attachment metadata of message `m` as a JSON array, oldest first: the one projection that
 * getSession, listMessages and export share, so their attachment shapes cannot drift apart. The
 * extracted text is added only when asked for (it can be 100,000 characters a file).
 */
export function attachmentsJson(organizationId: string, includeText = false): SQL {
  const text = includeText ? sql`, 'text', a.text` : sql``;
  return sql`coalesce((
    select json_agg(json_build_object(
      'id', a.id, 'filename', a.filename, 'declared_type', a.declared_type,
      'detected_type', a.detected_type, 'byte_size', a.byte_size, 'sha256', a.sha256,
      'page_count', a.page_count, 'char_count', a.char_count, 'truncated', a.truncated,
      'has_text', a.has_text, 'created_at', a.created_at ${text}
    ) order by a.created_at, a.id)
    from attachments a where a.message_id = m.id and a.organization_id = ${organizationId}
  ), '[]'::json)`;
}
