import { createDb, type Db } from '../db/client';
import { archiveIdleSessions } from '../db/queries/archival';
import { type Env, intSetting } from '../env';
import { redact } from '../log';

export const ARCHIVE_JOB_NAME = 'archive-idle-sessions';

export type ArchiveSettings = {
  /** Idle days before archival, for organizations without their own `idle_archive_days`. */
  idleDays: number;
  /** Sessions archived per statement. */
  batchSize: number;
  /** Statements per run at most. */
  maxBatches: number;
  /** No new batch starts once a run has taken this long; the rest waits for the next run. */
  timeBudgetMs: number;
};

export const ARCHIVE_DEFAULTS: ArchiveSettings = {
  idleDays: 30,
  batchSize: 500,
  maxBatches: 20,
  // Well inside the 15-minute schedule, so runs rarely overlap and the database load stays bounded.
  timeBudgetMs: 20_000,
};

/** The settings from env, each falling back to its default when unset, malformed or below 1. */
export function archiveSettings(env: Env): ArchiveSettings {
  const positive = (value: string | undefined, fallback: number) => {
    const n = intSetting(value, fallback);
    return n >= 1 ? n : fallback;
  };
  return {
    idleDays: positive(env.ARCHIVE_IDLE_DAYS, ARCHIVE_DEFAULTS.idleDays),
    batchSize: positive(env.ARCHIVE_BATCH_SIZE, ARCHIVE_DEFAULTS.batchSize),
    maxBatches: positive(env.ARCHIVE_MAX_BATCHES, ARCHIVE_DEFAULTS.maxBatches),
    timeBudgetMs: ARCHIVE_DEFAULTS.timeBudgetMs,
  };
}

export type ArchiveRun = {
  /** Ids archived by this run, in batch order (at most maxBatches × batchSize). */
  archivedIds: string[];
  batches: number;
  /** A budget ran out after a full batch, so idle sessions may remain for the next run. */
  stoppedEarly: boolean;
};

/**
 * Archives idle sessions batch by batch until a batch comes back short (none left that this run
 * can take) or the batch or time budget is spent. Every batch commits on its own, so work done
 * before a failure stays done (and is recorded in `run`, which the caller may pass in to see it),
 * and whatever a run leaves is taken by the next one.
 */
export async function archiveIdleSessionsRun(
  db: Db,
  settings: ArchiveSettings,
  run: ArchiveRun = { archivedIds: [], batches: 0, stoppedEarly: false },
): Promise<ArchiveRun> {
  const started = Date.now();
  for (;;) {
    const rows = await archiveIdleSessions(db, { defaultIdleDays: settings.idleDays, limit: settings.batchSize });
    run.batches++;
    for (const row of rows) run.archivedIds.push(row.id);
    if (rows.length < settings.batchSize) return run;
    if (run.batches >= settings.maxBatches || Date.now() - started >= settings.timeBudgetMs) {
      run.stoppedEarly = true;
      return run;
    }
  }
}

/** The innermost cause, redacted: the driver's reason rather than drizzle's "Failed query: <sql>". */
function rootCause(error: unknown, env: Env): string {
  let root = error;
  while (root instanceof Error && root.cause !== undefined) root = root.cause;
  return redact(root instanceof Error ? `${root.name}: ${root.message}` : String(root), env);
}

/**
 * The cron job: one run with a database client of its own, and exactly one JSON summary line,
 * on console.error when the run failed (the error is then rethrown, so the invocation is recorded
 * as failed; batches committed before it stay archived and are counted).
 */
export async function archiveIdleSessionsJob(controller: ScheduledController, env: Env): Promise<void> {
  const started = Date.now();
  const run: ArchiveRun = { archivedIds: [], batches: 0, stoppedEarly: false };
  const summary = () => ({
    job: ARCHIVE_JOB_NAME,
    cron: controller.cron,
    archived: run.archivedIds.length,
    batches: run.batches,
    stoppedEarly: run.stoppedEarly,
    durationMs: Date.now() - started,
  });
  try {
    await archiveIdleSessionsRun(createDb(env), archiveSettings(env), run);
  } catch (error) {
    console.error(JSON.stringify({ ...summary(), error: rootCause(error, env) }));
    throw error;
  }
  console.log(JSON.stringify(summary()));
}
