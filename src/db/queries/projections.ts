import { type Column, getTableName, type SQL, sql } from 'drizzle-orm';
import { attachments, chatSessions, messageFeedback, messages, personas } from '../schema';

/**
 * The column lists the API reads, each written once as a Drizzle field map. The typed builder selects
 * them directly; raw statements (CTEs, lateral joins, JSON aggregation) write the same map through
 * selectList or jsonObject, so a shape has one list of columns and one key casing (camelCase) in
 * every query that returns it.
 */
type Fields = Record<string, Column>;

/** A column's value as a row carries it: the builder reads timestamps as Date, raw SQL and JSON as text. */
type Value<C extends Column, Time> = C['_']['data'] extends Date ? Time : C['_']['data'];
/** The row type of a field map, so a raw statement's rows are typed from the same map it selects. */
export type RowOf<F extends Fields, Time = Date | string> = {
  [K in keyof F]: F[K]['_']['notNull'] extends true ? Value<F[K], Time> : Value<F[K], Time> | null;
};
/** The SQL alias each table has in a raw statement, by table name. */
type Aliases = Record<string, string>;

function columnRef(column: Column, aliases: Aliases): SQL {
  const table = getTableName(column.table);
  const alias = aliases[table] ?? table;
  return sql`${sql.identifier(alias)}.${sql.identifier(column.name)}`;
}

/** `alias.column as "key", …`: the fields as a raw select list. */
export function selectList(fields: Fields, aliases: Aliases): SQL {
  return sql.join(
    Object.entries(fields).map(([key, column]) => sql`${columnRef(column, aliases)} as ${sql.identifier(key)}`),
    sql`, `,
  );
}

/** `json_build_object('key', alias.column, …)`: the fields as one JSON object (timestamps become ISO strings). */
export function jsonObject(fields: Fields, aliases: Aliases, extra?: SQL): SQL {
  const pairs = Object.entries(fields).map(
    ([key, column]) => sql`${sql.raw(`'${key}'`)}, ${columnRef(column, aliases)}`,
  );
  return sql`json_build_object(${sql.join(extra ? [...pairs, extra] : pairs, sql`, `)})`;
}

/** A session with its embedded persona summary, as every session query returns it. */
export const sessionColumns = {
  id: chatSessions.id,
  organizationId: chatSessions.organizationId,
  personaId: chatSessions.personaId,
  userId: chatSessions.userId,
  title: chatSessions.title,
  platform: chatSessions.platform,
  status: chatSessions.status,
  messageCount: chatSessions.messageCount,
  lastActivityAt: chatSessions.lastActivityAt,
  archivedAt: chatSessions.archivedAt,
  archiveReason: chatSessions.archiveReason,
  createdAt: chatSessions.createdAt,
  updatedAt: chatSessions.updatedAt,
  personaName: personas.name,
  personaAvatarUrl: personas.avatarUrl,
};

export type SessionRow = RowOf<typeof sessionColumns>;

/** sessionColumns in a raw statement where the session is `s` and its persona `p`. */
export const sessionSelect = selectList(sessionColumns, { chat_sessions: 's', personas: 'p' });

/** A persona's stored fields, as persona queries return them. */
export const personaColumns = {
  id: personas.id,
  organizationId: personas.organizationId,
  name: personas.name,
  avatarUrl: personas.avatarUrl,
  description: personas.description,
  instructions: personas.instructions,
  model: personas.model,
  temperature: personas.temperature,
  maxOutputTokens: personas.maxOutputTokens,
  greeting: personas.greeting,
  version: personas.version,
  createdAt: personas.createdAt,
  updatedAt: personas.updatedAt,
};

/** The persona as it is now (deleted or not), as an export carries it: its fields but the organization. */
const { organizationId: _organizationId, ...personaFields } = personaColumns;
export const personaSnapshotColumns = { ...personaFields, deletedAt: personas.deletedAt };
export type PersonaSnapshot = RowOf<typeof personaSnapshotColumns>;

/** A rating, as feedback queries return it and as an export carries it. */
export const feedbackColumns = {
  messageId: messageFeedback.messageId,
  chatSessionId: messageFeedback.chatSessionId,
  personaId: messageFeedback.personaId,
  rating: messageFeedback.rating,
  reason: messageFeedback.reason,
  comment: messageFeedback.comment,
  userId: messageFeedback.userId,
  createdAt: messageFeedback.createdAt,
  updatedAt: messageFeedback.updatedAt,
};

export type FeedbackRow = RowOf<typeof feedbackColumns>;

/** The rating of message `m` as a JSON object, or null. */
export function feedbackJson(organizationId: string): SQL {
  return sql`(select ${jsonObject(feedbackColumns, { message_feedback: 'f' })}
    from message_feedback f where f.message_id = m.id and f.organization_id = ${organizationId})`;
}

const attachmentColumns = {
  id: attachments.id,
  filename: attachments.filename,
  declaredType: attachments.declaredType,
  detectedType: attachments.detectedType,
  byteSize: attachments.byteSize,
  sha256: attachments.sha256,
  pageCount: attachments.pageCount,
  charCount: attachments.charCount,
  truncated: attachments.truncated,
  hasText: attachments.hasText,
  indexStatus: attachments.indexStatus,
  createdAt: attachments.createdAt,
};

/** An attachment's metadata (its text only when asked for), as getSession, listMessages and export return it. */
export type AttachmentMeta = RowOf<typeof attachmentColumns, string> & { text?: string };

/**
 * The attachment metadata of message `m` as a JSON array, oldest first: the one projection that
 * getSession, listMessages and export share, so their attachment shapes cannot drift apart. The
 * extracted text is added only when asked for (it can be 100,000 characters a file).
 */
export function attachmentsJson(organizationId: string, includeText = false): SQL {
  const text = includeText ? sql`'text', a.text` : undefined;
  return sql`coalesce((
    select json_agg(${jsonObject(attachmentColumns, { attachments: 'a' }, text)} order by a.created_at, a.id)
    from attachments a where a.message_id = m.id and a.organization_id = ${organizationId}
  ), '[]'::json)`;
}

/** A message's stored fields, as every message query returns them. */
export const messageColumns = {
  id: messages.id,
  chatSessionId: messages.chatSessionId,
  role: messages.role,
  content: messages.content,
  status: messages.status,
  metadata: messages.metadata,
  replyToId: messages.replyToId,
  createdAt: messages.createdAt,
  updatedAt: messages.updatedAt,
};

/**
 * Message `m` as a JSON object with its attachments (and, for an export, its rating and when it
 * stopped being the reply version in use: an export keeps every version).
 */
export function messageJson(organizationId: string, options: { includeAttachmentText: boolean; feedback?: boolean }) {
  const attached = sql`'attachments', ${attachmentsJson(organizationId, options.includeAttachmentText)}`;
  const rated = options.feedback
    ? sql`, 'feedback', ${feedbackJson(organizationId)}, 'supersededAt', m.superseded_at,
        'editOfId', m.edit_of_id, 'hiddenBy', m.hidden_by`
    : sql``;
  return jsonObject(messageColumns, { messages: 'm' }, sql`${attached}${rated}`);
}
