import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { forgetCachedKey } from '../auth/authenticate';
import { generateApiKey, sha256Hex } from '../auth/keys';
import { assertNotThrottled, clientIp, recordFailure } from '../auth/throttle';
import type { Db } from '../db/client';
import { insertApiKey, listApiKeys, revokeApiKey } from '../db/queries/api-keys';
import {
  deleteOrganization,
  insertOrganization,
  listOrganizations,
  updateOrganization,
} from '../db/queries/organizations';
import { AppError } from '../errors';
import type { HonoEnv } from '../hono-env';
import { newId } from '../ids';
import { usageInput, usageReport } from '../services/usage';
import { MIN_ADMIN_TOKEN_LENGTH } from '../settings';
import { describeIssues } from '../validation';
import { isoOrNull } from '../views/dates';
import { parseBody, requireOrganization } from './admin-body';
import { publishableKeyAdminRoutes } from './admin-publishable-keys';
import { webhookAdminRoutes } from './admin-webhooks';

/**
 * The operator API: organizations (create, list, update, delete) and their API keys. Protected by ADMIN_TOKEN (a Worker secret);
 * answers 404 when no token is configured, so a deployment without one exposes nothing.
 */
export const adminRoutes = new Hono<HonoEnv>();

async function timingSafeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([sha256Hex(a), sha256Hex(b)]);
  let diff = 0;
  for (let i = 0; i < ha.length; i++) diff |= ha.charCodeAt(i) ^ hb.charCodeAt(i);
  return diff === 0;
}

/** Admin bodies are a name or two: anything larger is refused before it is read. */
export const ADMIN_MAX_BODY_BYTES = 16 * 1024;

adminRoutes.use('*', async (c, next) => {
  const token = c.env.ADMIN_TOKEN;
  if (!token) throw new AppError('NOT_FOUND', 'Not found.');
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new AppError(
      'NOT_CONFIGURED',
      `Admin API disabled: ADMIN_TOKEN is shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters. The operator must set a longer one.`,
    );
  }
  const ip = clientIp(c.req.raw.headers);
  assertNotThrottled(ip, c.var.config.auth.failuresPerMinute);
  const given = c.req.header('authorization')?.replace(/^Bearer\s+/i, '') ?? '';
  if (!(await timingSafeEqual(given, token))) {
    recordFailure(ip);
    throw new AppError('UNAUTHORIZED', 'Admin API: send "Authorization: Bearer <ADMIN_TOKEN>".');
  }
  await next();
});

adminRoutes.use(
  '*',
  bodyLimit({
    maxSize: ADMIN_MAX_BODY_BYTES,
    onError: () => {
      throw new AppError('PAYLOAD_TOO_LARGE', `Admin request bodies are limited to ${ADMIN_MAX_BODY_BYTES} bytes.`);
    },
  }),
);

const name = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((v) => !v.includes('\u0000') && v.isWellFormed(), 'must be valid Unicode without NUL characters');
const nameBody = z.object({ name });
/** Operator changes to an organization; null clears an override (the Worker's setting applies again). */
const organizationChanges = z
  .object({
    name: name.optional(),
    dailyModelCallCap: z.number().int().min(0).max(100_000_000).nullable().optional(),
    idleArchiveDays: z.number().int().min(1).max(36_500).nullable().optional(),
  })
  .strict()
  .refine((changes) => Object.values(changes).some((value) => value !== undefined), {
    message: 'give at least one of name, dailyModelCallCap, idleArchiveDays',
  });

function keyView(k: {
  id: string;
  organizationId: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}) {
  return {
    id: k.id,
    organizationId: k.organizationId,
    name: k.name,
    prefix: k.prefix,
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: isoOrNull(k.lastUsedAt),
    revokedAt: isoOrNull(k.revokedAt),
  };
}

/** Creates a key and returns it in full: the only time it is ever shown. */
export async function createApiKey(db: Db, organizationId: string, name: string) {
  const { key, prefix } = generateApiKey();
  const row = await insertApiKey(db, organizationId, { id: newId('apiKey'), name, prefix, hash: await sha256Hex(key) });
  if (!row) throw new AppError('INTERNAL', 'API key insert returned no row.');
  return { ...keyView(row), key };
}

const orgView = (o: {
  id: string;
  name: string;
  idleArchiveDays: number | null;
  dailyModelCallCap: number | null;
  createdAt: Date;
  updatedAt: Date;
}) => ({
  id: o.id,
  name: o.name,
  idleArchiveDays: o.idleArchiveDays,
  dailyModelCallCap: o.dailyModelCallCap,
  createdAt: o.createdAt.toISOString(),
  updatedAt: o.updatedAt.toISOString(),
});

adminRoutes.post('/organizations', async (c) => {
  const { name } = await parseBody(c.req.raw, nameBody);
  const org = await insertOrganization(c.var.db, { id: newId('organization'), name });
  if (!org) throw new AppError('INTERNAL', 'Organization insert returned no row.');
  const apiKey = await createApiKey(c.var.db, org.id, 'default');
  return c.json({ organization: orgView(org), apiKey }, 201);
});

adminRoutes.get('/organizations', async (c) => {
  const rows = await listOrganizations(c.var.db);
  return c.json(rows.map(orgView));
});

adminRoutes.patch('/organizations/:orgId', async (c) => {
  const orgId = c.req.param('orgId');
  const changes = await parseBody(c.req.raw, organizationChanges);
  const org = await updateOrganization(c.var.db, orgId, changes);
  if (!org) throw new AppError('NOT_FOUND', `Organization ${orgId} not found.`);
  return c.json(orgView(org));
});

/**
 * Deletes an organization with everything it owns. Irreversible, so the request must repeat the id
 * in `?confirm=` (a stray DELETE on the wrong path deletes nothing).
 */
adminRoutes.delete('/organizations/:orgId', async (c) => {
  const orgId = c.req.param('orgId');
  if (c.req.query('confirm') !== orgId) {
    throw new AppError(
      'BAD_REQUEST',
      `Deleting an organization removes all its data for good: repeat its id as ?confirm=${orgId} to go ahead.`,
    );
  }
  const deleted = await deleteOrganization(c.var.db, orgId);
  if (!deleted) throw new AppError('NOT_FOUND', `Organization ${orgId} not found.`);
  // Its keys stop at once in this isolate; others drop them within AUTH_CACHE_TTL_SECONDS.
  for (const keyId of deleted.apiKeyIds) forgetCachedKey(keyId);
  return c.json({ deleted: { id: deleted.id, name: deleted.name, apiKeys: deleted.apiKeyIds.length } });
});

adminRoutes.post('/organizations/:orgId/api-keys', async (c) => {
  const orgId = c.req.param('orgId');
  const { name } = await parseBody(c.req.raw, nameBody);
  await requireOrganization(c.var.db, orgId);
  return c.json(await createApiKey(c.var.db, orgId, name), 201);
});

adminRoutes.get('/organizations/:orgId/api-keys', async (c) => {
  const orgId = c.req.param('orgId');
  await requireOrganization(c.var.db, orgId);
  const rows = await listApiKeys(c.var.db, orgId);
  return c.json(rows.map(keyView));
});

adminRoutes.post('/organizations/:orgId/api-keys/:keyId/revoke', async (c) => {
  const row = await revokeApiKey(c.var.db, c.req.param('orgId'), c.req.param('keyId'));
  if (!row) throw new AppError('NOT_FOUND', `API key ${c.req.param('keyId')} not found in that organization.`);
  // Takes effect at once in this isolate; others drop it within AUTH_CACHE_TTL_SECONDS.
  forgetCachedKey(row.id);
  return c.json(keyView(row));
});

// Widget (publishable) keys: their own file, behind the same ADMIN_TOKEN check as everything above.
adminRoutes.route('/', publishableKeyAdminRoutes);
// Webhook endpoints and deliveries, for the CLI: src/routes/admin-webhooks.ts.
adminRoutes.route('/', webhookAdminRoutes);
/** An organization's usage (as the API's usage.get gives it): `?from=YYYY-MM-DD&to=YYYY-MM-DD[&personaId=]`. */
adminRoutes.get('/organizations/:orgId/usage', async (c) => {
  const orgId = c.req.param('orgId');
  const parsed = usageInput.safeParse({
    from: c.req.query('from'),
    to: c.req.query('to'),
    personaId: c.req.query('personaId'),
  });
  if (!parsed.success) throw new AppError('BAD_REQUEST', describeIssues(parsed.error));
  await requireOrganization(c.var.db, orgId);
  return c.json(await usageReport(c.var.db, orgId, parsed.data));
});
