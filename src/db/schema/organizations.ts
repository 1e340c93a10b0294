import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns';

export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** Per-organization override of the idle period after which sessions are archived. */
  idleArchiveDays: integer('idle_archive_days'),
  /** Per-organization override of DAILY_MODEL_CALL_CAP. */
  dailyModelCallCap: integer('daily_model_call_cap'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});
