import type { Config } from '../config';
import type { Db } from '../db/client';
import {
  findPublishableKeyByHash,
  type PublishableKeyRow,
  sessionOfMessage,
  visitorMessagesToday,
} from '../db/queries/publishable-keys';
import { AppError } from '../errors';
import { enforceRateLimit, type RateLimited } from '../rate-limit';
import type { Auth } from './authenticate';
import { PUBLISHABLE_KEY_PREFIX, sha256Hex } from './keys';
import { checkVisitorAttachments } from './visitor-attachments';
import { enforceWindow, secondsUntilUtcMidnight } from './visitor-limits';
import { type VisitorClaims, verifyVisitorToken } from './visitor-token';

/** Defaults of a publishable key's per-visitor limits (each key may set its own). */
export const DEFAULT_VISITOR_LIMITS = { maxMessageChars: 2_000, dailyMessages: 200, requestsPerMinute: 30 };
/** Widget sessions one IP address may start per minute with one key. */
export const SESSION_STARTS_PER_IP_PER_MINUTE = 10;

export type PublishableAuth = Auth & { key: PublishableKeyRow };

type CacheEntry = { row: PublishableKeyRow | null; expiresAt: number };
/**
 * Per-isolate cache of publishable keys by hash, unknown keys included: a preflight carries no
 * credentials, so OPTIONS requests with made-up keys must not each cost a query. Bounded; cleared
 * whole when full. A revoked key stops working within the TTL (AUTH_CACHE_TTL_SECONDS, 30 s default).
 */
const cache = new Map<string, CacheEntry>();
const MAX_ENTRIES = 10_000;
const MAX_KEY_LENGTH = 200;

export function forgetCachedPublishableKeys(): void {
  cache.clear();
}

/** The key row for a presented publishable key, or null (unknown, malformed or revoked). */
/** `ttlMs`: AUTH_CACHE_TTL_SECONDS in milliseconds (config.auth.cacheTtlMs). */
export async function lookupPublishableKey(db: Db, ttlMs: number, key: string): Promise<PublishableKeyRow | null> {
  if (!key.startsWith(PUBLISHABLE_KEY_PREFIX) || key.length > MAX_KEY_LENGTH) return null;
  const hash = await sha256Hex(key);
  const now = Date.now();
  const cached = cache.get(hash);
  let row: PublishableKeyRow | null;
  if (cached && cached.expiresAt > now) row = cached.row;
  else {
    row = (await findPublishableKeyByHash(db, hash)) ?? null;
    if (ttlMs > 0) {
      if (cache.size >= MAX_ENTRIES) cache.clear();
      cache.set(hash, { row, expiresAt: now + ttlMs });
    }
  }
  return row && row.revokedAt === null ? row : null;
}

/**
 * The origin of the page making a request. Browsers send Origin on every cross-origin request and on
 * same-origin POSTs, but not on same-origin GETs (a page on the API's own origin, like the playground's
 * widget preview); those carry `Sec-Fetch-Site: same-origin`, which pages cannot set.
 */
export function pageOrigin(headers: Headers, requestUrl: string): string | null {
  const origin = headers.get('origin');
  if (origin) return origin;
  return headers.get('sec-fetch-site') === 'same-origin' ? new URL(requestUrl).origin : null;
}

export function originAllowed(row: PublishableKeyRow, origin: string | null | undefined): boolean {
  return Boolean(origin && row.allowedOrigins.includes(origin));
}

/**
 * Authenticates a request made under /widget/v1/<key>/: the key must exist, be live, and the browser's
 * Origin must be one the organization allowed for it. Requests without an Origin (not from a browser)
 * are refused too: a publishable key is for pages, and servers have secret keys.
 */
export async function authenticatePublishable(
  ctx: RateLimited & { db: Db; headers: Headers; widget: { key: string; origin: string | null } },
): Promise<PublishableAuth> {
  const row = await lookupPublishableKey(ctx.db, ctx.config.auth.cacheTtlMs, ctx.widget.key);
  if (!row) throw new AppError('UNAUTHORIZED', 'Invalid or revoked publishable key.');
  const origin = ctx.widget.origin;
  if (!originAllowed(row, origin)) {
    throw new AppError(
      'FORBIDDEN',
      origin
        ? `This widget key is not allowed on ${origin.slice(0, 200)}; the organization must add that origin to the key.`
        : 'A publishable key works only from a web page whose origin the organization allowed.',
    );
  }
  await enforceRateLimit(ctx, row.id);
  return { organizationId: row.organizationId, apiKeyId: row.id, key: row };
}

const limitsOf = (row: PublishableKeyRow) => ({ ...DEFAULT_VISITOR_LIMITS, ...row.visitorLimits });

/**
 * What a visitor may call, and which input field names the session it acts on: a chat session id, or
 * a message whose session is looked up. Everything not listed answers 403.
 */
const VISITOR_PROCEDURES: Record<string, { field: string; of: 'session' | 'message' }> = {
  'chat.getSession': { field: 'id', of: 'session' },
  'chat.listMessages': { field: 'chatSessionId', of: 'session' },
  'chat.sendMessage': { field: 'chatSessionId', of: 'session' },
  'chat.streamMessage': { field: 'chatSessionId', of: 'session' },
  'chat.stopReply': { field: 'messageId', of: 'message' },
  'chat.resumeReply': { field: 'messageId', of: 'message' },
};
/** Procedures a publishable key may call without a visitor token. */
export const VISITOR_OPEN_PROCEDURES = new Set(['widget.startSession']);
export const visitorProcedures = Object.keys(VISITOR_PROCEDURES);

const RESUME_REPLY = /^(msg_[0-9A-Z]{26}):/;

const otherSession = () =>
  new AppError('FORBIDDEN', 'This visitor token does not cover that session: a visitor can use only its own session.');

/**
 * The visitor's side of the bargain, checked before the procedure runs: the procedure is one a visitor
 * needs, the visitor token is valid for this organization and key, and the input names only the
 * token's session. Sends are bounded by the key's per-visitor limits.
 */
export async function authorizeVisitor(
  ctx: { db: Db; config: Config; headers: Headers },
  auth: PublishableAuth,
  path: string,
  rawInput: unknown,
): Promise<VisitorClaims | undefined> {
  if (VISITOR_OPEN_PROCEDURES.has(path)) {
    const ip = ctx.headers.get('cf-connecting-ip');
    if (ip) enforceWindow(`start:${auth.apiKeyId}:${ip}`, SESSION_STARTS_PER_IP_PER_MINUTE, 'new widget sessions');
    return undefined;
  }
  const rule = VISITOR_PROCEDURES[path];
  if (!rule) {
    throw new AppError(
      'FORBIDDEN',
      `A publishable key cannot call ${path}: it can only start a widget session and chat in it.`,
    );
  }
  const token = ctx.headers.get('x-visitor-token')?.trim();
  if (!token) throw new AppError('UNAUTHORIZED', 'Missing visitor token: send it in the X-Visitor-Token header.');
  const claims = await verifyVisitorToken(ctx.config.auth.visitorTokenSecret, token);
  if (claims.o !== auth.organizationId || claims.k !== auth.apiKeyId) throw otherSession();

  const limits = limitsOf(auth.key);
  enforceWindow(`visitor:${claims.s}`, limits.requestsPerMinute, 'requests from this visitor');

  const input = (rawInput ?? {}) as Record<string, unknown>;
  const target = input[rule.field];
  if (typeof target !== 'string') throw otherSession();
  const sessionId = rule.of === 'session' ? target : await sessionOfMessage(ctx.db, auth.organizationId, target);
  if (sessionId !== claims.s) throw otherSession();

  if (path === 'chat.sendMessage' || path === 'chat.streamMessage') {
    await checkVisitorSend(ctx.db, auth, claims, input);
  }
  return claims;
}

/** A visitor's send: a reconnect to its own reply, or a USER message within the key's limits. */
async function checkVisitorSend(
  db: Db,
  auth: PublishableAuth,
  claims: VisitorClaims,
  input: Record<string, unknown>,
): Promise<void> {
  const resume = typeof input.lastEventId === 'string' ? RESUME_REPLY.exec(input.lastEventId) : null;
  if (resume) {
    // A reconnect follows the reply named in lastEventId: it must be this visitor's too.
    if ((await sessionOfMessage(db, auth.organizationId, resume[1] ?? '')) !== claims.s) throw otherSession();
    return;
  }
  if (input.role !== undefined && input.role !== 'USER') {
    throw new AppError('FORBIDDEN', 'A visitor can send only USER messages.');
  }
  if (input.metadata !== undefined) throw new AppError('FORBIDDEN', 'A visitor cannot set message metadata.');
  checkVisitorAttachments(auth.key, input.attachments);
  const limits = limitsOf(auth.key);
  if (typeof input.content === 'string' && input.content.length > limits.maxMessageChars) {
    throw new AppError(
      'BAD_REQUEST',
      `content: is too long for the widget (max ${limits.maxMessageChars} characters).`,
    );
  }
  const sentToday = await visitorMessagesToday(db, auth.organizationId, claims.s, limits.dailyMessages);
  if (sentToday >= limits.dailyMessages) {
    const retryAfter = secondsUntilUtcMidnight();
    throw new AppError(
      'RATE_LIMITED',
      `This visitor has sent the ${limits.dailyMessages} messages allowed per day; retry in ${retryAfter} s.`,
      { retryAfter },
    );
  }
}
