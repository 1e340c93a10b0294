import { date, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { organizations } from './organizations';

/** Model calls per organization per UTC day, for the daily cap (model calls cost money). */
export const usageCounters = pgTable(
  'usage_counters',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    modelCalls: integer('model_calls').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.day] })],
);
