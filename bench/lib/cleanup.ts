/**
 * Everything the bench starts registers how to undo it here; `runCleanup` undoes it all, last
 * first, once, whether the run succeeded, failed, or was interrupted (SIGINT/SIGTERM).
 */
type Task = { name: string; run: () => Promise<void> | void };
const tasks: Task[] = [];
let running: Promise<void> | undefined;

export function isStopping(): boolean {
  return running !== undefined;
}

/** Throws once cleanup has begun, so nothing new is started behind its back. */
export function assertRunning(): void {
  if (running) throw new Error('the bench is stopping');
}

export function onCleanup(name: string, run: Task['run']): void {
  tasks.push({ name, run });
}

export function runCleanup(): Promise<void> {
  running ??= (async () => {
    while (tasks.length > 0) {
      const task = tasks.pop();
      if (!task) break;
      // Each task gets 15 s at most; the timer must not keep the process alive afterwards.
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          task.run(),
          new Promise((resolve) => {
            timer = setTimeout(resolve, 15_000);
          }),
        ]);
      } catch (error) {
        console.error(`[bench] cleanup "${task.name}" failed:`, error);
      } finally {
        clearTimeout(timer);
      }
    }
  })();
  return running;
}

/** Signals and crashes still clean up before the process exits. */
export function installExitHandlers(): void {
  const bail = (why: string, code: number) => {
    console.error(`[bench] ${why}: cleaning up`);
    void runCleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => bail('interrupted', 130));
  process.once('SIGTERM', () => bail('terminated', 143));
  process.once('SIGHUP', () => bail('hang-up', 129));
  process.on('uncaughtException', (error) => {
    console.error(error);
    bail('uncaught exception', 1);
  });
  process.on('unhandledRejection', (error) => {
    console.error(error);
    bail('unhandled rejection', 1);
  });
}
