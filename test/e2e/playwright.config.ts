/**
 * End to end: the playground page and the embeddable widget in headless Chromium, against `npm run dev`
 * started by Playwright on free ports with a throwaway state folder (fresh database, fresh demo
 * organization) and the built-in offline model.
 *
 *   npm run test:e2e            (= playwright test -c test/e2e)
 *
 * Uses Debian's Chromium at /usr/bin/chromium (CHROMIUM_PATH overrides): Playwright's own browsers are
 * never downloaded. The two files share the server and run one after the other, each test of a file in
 * order on one page (a conversation builds up).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A loopback port free right now, found synchronously (a config file cannot wait). */
function freePort(): string {
  const probe =
    "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  return execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' }).trim();
}

// The config is loaded again in each worker process: the runner picks the ports and the state folder
// once and hands them down through the environment (workers inherit it).
if (!process.env.E2E_PORT) {
  process.env.E2E_PORT = freePort();
  process.env.E2E_INSPECTOR_PORT = freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'conversations-e2e-'));
  process.env.E2E_STATE_DIR = stateDir;
  // After the web server has been stopped (the runner's last step).
  process.on('exit', () => rmSync(stateDir, { recursive: true, force: true }));
}
const baseURL = `http://127.0.0.1:${process.env.E2E_PORT}`;

export default defineConfig({
  testDir: '.',
  testMatch: '*.e2e.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  // Failure artifacts (error context, traces) of the last run; Playwright empties it at the start of a run.
  outputDir: join(tmpdir(), 'conversations-e2e-results'),
  use: {
    baseURL,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
    },
  },
  webServer: {
    command: 'node dev/start.ts',
    cwd: root,
    url: `${baseURL}/health`,
    // Ready once the demo organization exists (the playground's tests start with its credentials).
    wait: { stdout: /Conversations API ready/ },
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    // Like Ctrl+C: dev/start.ts stops wrangler, which stops workerd; the whole process group is killed after 10 s.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
    env: {
      ...(process.env as Record<string, string>),
      PORT: process.env.E2E_PORT,
      INSPECTOR_PORT: process.env.E2E_INSPECTOR_PORT ?? '',
      DEV_STATE_DIR: process.env.E2E_STATE_DIR ?? '',
      // The built-in offline model: deterministic, streams word by word, needs no network.
      OPENAI_API_KEY: '',
      DATABASE_URL: '',
    },
  },
});
