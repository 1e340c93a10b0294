// @ts-check
/**
 * What the playground has on screen, in one object every module reads and changes. The shapes are the
 * API's (docs/api-contract.md); only the fields the page uses are named.
 */

/** @typedef {{ apiKey: string, organizationId: string }} Credentials */
/**
 * @typedef {{ id: string, name: string, description?: string | null, model?: string | null, version: number,
 *   [field: string]: unknown }} Persona
 */
/**
 * @typedef {{ id: string, title: string | null, platform: string, status: string, persona: { name: string },
 *   _count: { messages: number }, lastActivityAt?: string | null, updatedAt: string }} SessionSummary
 */
/**
 * @typedef {{ filename: string, pageCount?: number | null, byteSize?: number, size?: number,
 *   hasText?: boolean, truncated?: boolean }} Attachment
 */
/**
 * @typedef {{ id: string, role: string, content: string, status?: string, createdAt: string,
 *   metadata?: Record<string, any>, attachments?: Attachment[], replyToId?: string | null }} Message
 */
/** @typedef {SessionSummary & { id: string, messages: Message[] }} Session */
/** @typedef {{ id: string, text: string, li: HTMLElement }} Reply */

export const state = {
  /** @type {Credentials | null} */
  creds: null,
  /** @type {Persona[]} */
  personas: [],
  /** @type {SessionSummary[]} */
  sessions: [],
  /** @type {string | null} the next page of sessions */
  cursor: null,
  /** @type {Session | null} the open session */
  session: null,
  /** @type {File[]} files picked for the next message */
  files: [],
  /** @type {Reply | null} the reply streaming into the page */
  reply: null,
  /** @type {AbortController | null} the stream being read (a send, or following a reply) */
  abort: null,
  /** @type {Map<string, string>} message id → UP or DOWN */
  ratings: new Map(),
  /** @type {Persona | null} the persona in the form; null for a new one */
  editing: null,
};
