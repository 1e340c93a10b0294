import { Hono } from 'hono';
import { z } from 'zod';
import { SUPPORTED_TYPES } from '../attachments/mime';
import { generateApiKey, PUBLISHABLE_KEY_PREFIX, sha256Hex } from '../auth/keys';
import { forgetCachedPublishableKeys } from '../auth/publishable';
import { WIDGET_ATTACHMENT_BOUNDS, WIDGET_ATTACHMENT_DEFAULTS } from '../auth/visitor-attachments';
import { identitySecret } from '../auth/visitor-token';
import { getOrganization } from '../db/queries/organizations';
import {
  existingPersonaIds,
  insertPublishableKey,
  listPublishableKeys,
  type PublishableKeyRow,
  revokePublishableKey,
} from '../db/queries/publishable-keys';
import { AppError } from '../errors';
import type { HonoEnv } from '../hono-env';
import { newId } from '../ids';
import { describeIssues } from '../validation';
import { isoOrNull } from '../views/dates';

/**
 * Operator API for widget keys, mounted inside adminRoutes (so behind its ADMIN_TOKEN check):
 * create with origins, personas and per-visitor limits; list; revoke. And the organization's identity
 * secret, which its backend uses to vouch for a visitor's user id.
 */
export const publishableKeyAdminRoutes = new Hono<HonoEnv>();

/** scheme://host[:port], nothing more: exactly what a browser sends in Origin. */
const origin = z
  .string()
  .trim()
  .max(300)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
    } catch {
      return false;
    }
  }, 'must be an origin such as https://www.example.com (scheme, host and optional port; no path or trailing slash)');

const createBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    allowedOrigins: z.array(origin).min(1).max(50),
    personaIds: z.array(z.string().trim().min(1).max(100)).min(1).max(50),
    visitorLimits: z
      .object({
        maxMessageChars: z.number().int().min(1).max(100_000).optional(),
        dailyMessages: z.number().int().min(1).max(100_000).optional(),
        requestsPerMinute: z.number().int().min(1).max(10_000).optional(),
        allowAttachments: z.boolean().optional(),
        maxAttachments: z.number().int().min(1).max(WIDGET_ATTACHMENT_BOUNDS.maxAttachments).optional(),
        maxAttachmentBytes: z.number().int().min(1).max(WIDGET_ATTACHMENT_BOUNDS.maxAttachmentBytes).optional(),
        attachmentTypes: z
          .array(z.enum(SUPPORTED_TYPES as [string, ...string[]]))
          .min(1)
          .max(SUPPORTED_TYPES.length)
          .transform((types) => [...new Set(types)])
          .optional(),
      })
      .strict()
      .refine(
        (l) =>
          (l.maxAttachments ?? WIDGET_ATTACHMENT_DEFAULTS.maxAttachments) *
            (l.maxAttachmentBytes ?? WIDGET_ATTACHMENT_DEFAULTS.maxAttachmentBytes) <=
          WIDGET_ATTACHMENT_BOUNDS.maxTotalBytes,
        `maxAttachments × maxAttachmentBytes must be at most ${WIDGET_ATTACHMENT_BOUNDS.maxTotalBytes} bytes`,
      )
      .default({}),
  })
  .strict();

function view(k: PublishableKeyRow) {
  return {
    id: k.id,
    organizationId: k.organizationId,
    name: k.name,
    prefix: k.prefix,
    allowedOrigins: k.allowedOrigins,
    personaIds: k.allowedPersonaIds,
    visitorLimits: k.visitorLimits,
    createdAt: k.createdAt.toISOString(),
    revokedAt: isoOrNull(k.revokedAt),
  };
}

async function requireOrganization(c: { var: HonoEnv['Variables'] }, id: string) {
  if (!(await getOrganization(c.var.db, id))) throw new AppError('NOT_FOUND', `Organization ${id} not found.`);
}

publishableKeyAdminRoutes.post('/organizations/:orgId/publishable-keys', async (c) => {
  const orgId = c.req.param('orgId');
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new AppError('BAD_REQUEST', 'Body must be JSON.');
  }
  const parsed = createBody.safeParse(raw);
  if (!parsed.success) throw new AppError('BAD_REQUEST', describeIssues(parsed.error));
  const body = parsed.data;
  await requireOrganization(c, orgId);
  const personaIds = [...new Set(body.personaIds)];
  const found = new Set(await existingPersonaIds(c.var.db, orgId, personaIds));
  const missing = personaIds.filter((id) => !found.has(id));
  if (missing.length) throw new AppError('NOT_FOUND', `Persona ${missing.join(', ')} not found in that organization.`);
  const { key, prefix } = generateApiKey(PUBLISHABLE_KEY_PREFIX);
  const row = await insertPublishableKey(c.var.db, orgId, {
    id: newId('publishableKey'),
    name: body.name,
    prefix,
    hash: await sha256Hex(key),
    allowedOrigins: [...new Set(body.allowedOrigins)],
    allowedPersonaIds: personaIds,
    visitorLimits: body.visitorLimits,
  });
  if (!row) throw new AppError('NOT_FOUND', `Organization ${orgId} not found.`);
  // Unknown keys are cached too (src/auth/publishable.ts): drop this isolate's view so the key works at once.
  forgetCachedPublishableKeys();
  return c.json({ ...view(row), key }, 201);
});

publishableKeyAdminRoutes.get('/organizations/:orgId/publishable-keys', async (c) => {
  const orgId = c.req.param('orgId');
  await requireOrganization(c, orgId);
  return c.json((await listPublishableKeys(c.var.db, orgId)).map(view));
});

publishableKeyAdminRoutes.post('/organizations/:orgId/publishable-keys/:keyId/revoke', async (c) => {
  const row = await revokePublishableKey(c.var.db, c.req.param('orgId'), c.req.param('keyId'));
  if (!row) throw new AppError('NOT_FOUND', `Publishable key ${c.req.param('keyId')} not found in that organization.`);
  // At once in this isolate; others drop it within AUTH_CACHE_TTL_SECONDS.
  forgetCachedPublishableKeys();
  return c.json(view(row));
});

/** The secret the organization's backend signs user ids with (userHash = hex HMAC-SHA256(secret, userId)). */
publishableKeyAdminRoutes.get('/organizations/:orgId/widget-identity-secret', async (c) => {
  const orgId = c.req.param('orgId');
  await requireOrganization(c, orgId);
  return c.json({ identitySecret: await identitySecret(c.var.config.auth.visitorTokenSecret, orgId) }, 200, {
    'cache-control': 'no-store',
  });
});
