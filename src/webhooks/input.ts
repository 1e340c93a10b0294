import { z } from 'zod';
import { webhookDeliveryStatuses, webhookEventTypes } from '../db/schema';

/** Inputs of the webhook API, shared by the tRPC procedures and the operator API (the CLI). */
const idText = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'is too long (max 100 characters)')
  .regex(/^[\w-]+$/, 'must be an id (letters, digits, "_" and "-")');

const events = z
  .array(z.enum(webhookEventTypes))
  .min(1, 'must name at least one event type')
  .max(webhookEventTypes.length)
  .transform((list) => [...new Set(list)]);

const description = z
  .string()
  .trim()
  .max(500, 'is too long (max 500 characters)')
  .refine((v) => !v.includes('\u0000') && v.isWellFormed(), 'must be valid Unicode text');

export const createEndpointInput = z.object({
  url: z.string().max(2_000, 'is too long (max 2000 characters)'),
  events,
  description: description.nullish(),
});

export const updateEndpointInput = z.object({
  id: idText,
  url: z.string().max(2_000, 'is too long (max 2000 characters)').optional(),
  events: events.optional(),
  description: description.nullish(),
  enabled: z.boolean().optional(),
});

export const endpointRef = z.object({ id: idText });

export const listEndpointsInput = z.object({
  limit: z.number().int().min(1).max(100).default(50),
  cursor: idText.optional(),
});

export const listDeliveriesInput = z.object({
  endpointId: idText,
  status: z.enum(webhookDeliveryStatuses).optional(),
  limit: z.number().int().min(1).max(100).default(50),
  cursor: idText.optional(),
});

export const deliveryRef = z.object({ id: idText });
