import { type ArchiveSettings, loadConfig } from '../config';
import { createDb, type Db } from '../db/client';
import { archiveIdleSessions } from '../db/queries/archival';
import type { Env } from '../env';
import { type LogScope, log } from '../log';

export const ARCHIVE_JOB_NAME = 'archive-idle-sessions';

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

/**
 * The cron job: one run with a database client of its own (settings from src/config.ts: ARCHIVE_*),
 * and exactly one log line, at level error when the run failed (the error is then rethrown, so the
 * invocation is recorded as failed; batches committed before it stay archived and are counted).
 */
export async function archiveIdleSessionsJob(
  controller: ScheduledController,
  env: Env,
  scope: LogScope,
): Promise<void> {
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
    await archiveIdleSessionsRun(createDb(env), loadConfig(env).archive, run);
  } catch (error) {
    log('error', scope, 'cron.job_failed', summary(), error);
    throw error;
  }
  log('info', scope, 'cron.job_done', summary());
}
