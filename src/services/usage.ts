import { z } from 'zod';
import type { Db } from '../db/client';
import { readUsage, sumUsage } from '../db/queries/usage';
import { AppError } from '../errors';
import { id } from '../inputs/common';

/** Longest range one usage query covers: a year, leap day included. */
export const USAGE_MAX_DAYS = 366;
/** Rows (day × persona) one answer holds at most: far below Neon's 10 MiB response cap. */
export const USAGE_MAX_ROWS = 20_000;

const day = z.iso.date({ error: 'must be a UTC day, YYYY-MM-DD' });

/** The usage query's input, shared by the API (usage.get) and the operator API. */
export const usageInput = z
  .object({ from: day, to: day, personaId: id.optional() })
  .refine((r) => r.from <= r.to, { message: '`from` must not be after `to`', path: ['from'] })
  .refine((r) => daysBetween(r.from, r.to) < USAGE_MAX_DAYS, {
    message: `the range must cover at most ${USAGE_MAX_DAYS} days`,
    path: ['to'],
  });

function daysBetween(from: string, to: string): number {
  return (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
}

/**
 * An organization's usage per UTC day and persona over a range, with totals. Days and personas
 * without usage have no row. Read from the counters the work itself keeps (usage_daily).
 */
export async function usageReport(db: Db, organizationId: string, input: z.infer<typeof usageInput>) {
  const { rows, more } = await readUsage(db, organizationId, input, USAGE_MAX_ROWS);
  if (more) {
    throw new AppError(
      'BAD_REQUEST',
      `The range has more than ${USAGE_MAX_ROWS} day-and-persona rows; ask for fewer days or one persona.`,
    );
  }
  return { from: input.from, to: input.to, personaId: input.personaId ?? null, days: rows, totals: sumUsage(rows) };
}
