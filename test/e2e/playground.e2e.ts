// The callbacks given to page.evaluate run in the browser.
/// <reference lib="dom" />
/**
 * End to end: the playground page (GET /) in headless Chromium against `npm run dev`, started here on
 * free ports with a throwaway state folder (fresh database, fresh demo organization).
 *
 *   npm run test:e2e
 *
 * Needs Debian's Chromium at /usr/bin/chromium (CHROMIUM_PATH overrides; no browser download).
 * PLAYGROUND_SCREENSHOT=docs/playground.png also saves a desktop screenshot taken mid-reply, and
 * PLAYGROUND_SCREENSHOT_NARROW=<file> one at 390 px wide.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PDF_NAME = 'simple-onepage_minimal-document.pdf';
const PDF_PATH = resolve(root, 'test/fixtures/pdfs', PDF_NAME);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STARTUP_MS = 180_000;

let server: ChildProcess | undefined;
let serverOutput = '';
let baseUrl = '';
let context: BrowserContext | undefined;
let page: Page;
const pageErrors: string[] = [];

function freePort(): Promise<number> {
  return new Promise((ready, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => ready(port));
    });
  });
}

/** A process as /proc shows it; its start time tells it apart from a later process with the same id. */
type Proc = { pid: number; parent: number; start: string; zombie: boolean };

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (name) ": state, parent, ... and the start time is field 22 of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, parent: Number(fields[1]), start: fields[19] ?? '', zombie: fields[0] === 'Z' };
  } catch {
    return undefined;
  }
}

/** Every process the server started, as last seen (children are re-parented once their parent exits). */
const started = new Map<number, string>();

/** Adds the server and every process below it (wrangler, workerd, esbuild) to `started`. Linux only. */
function trackServerTree(): void {
  if (!server?.pid) return;
  let procs: Proc[] = [];
  try {
    procs = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .flatMap((name) => readProc(Number(name)) ?? []);
  } catch {
    // No /proc: only the server itself is known, and stopped through its own handler.
  }
  const tree = [server.pid];
  for (let i = 0; i < tree.length; i++) {
    for (const p of procs) if (p.parent === tree[i]) tree.push(p.pid);
  }
  for (const p of procs) if (tree.includes(p.pid)) started.set(p.pid, p.start);
}

/** The tracked processes still running: the same process (same start time), not a zombie. */
function stillRunning(): number[] {
  return [...started]
    .filter(([pid, start]) => {
      const p = readProc(pid);
      return p !== undefined && p.start === start && !p.zombie;
    })
    .map(([pid]) => pid);
}

/**
 * Stops `npm run dev` the way Ctrl+C does (it stops wrangler, which stops workerd), then kills by id
 * whatever it started that still runs after 10 s.
 */
async function stopServer(): Promise<void> {
  if (!server?.pid) return;
  trackServerTree();
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
  const until = Date.now() + 10_000;
  while (stillRunning().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  for (const pid of stillRunning()) process.kill(pid, 'SIGKILL');
}

/**
 * Everything this run writes (the server's state, Chromium's profile and artifacts) goes into one
 * folder named after this process, removed at the end. A run interrupted by Ctrl+C may be cut short
 * before that: the next run removes folders whose process is gone.
 */
const runDir = join(tmpdir(), `playground-e2e-${process.pid}-${Date.now().toString(36)}`);

function removeRunDir(): void {
  rmSync(runDir, { recursive: true, force: true });
}

function removeStaleRunDirs(): void {
  if (!readProc(process.pid)) return; // no /proc: cannot tell which runs are gone
  for (const name of readdirSync(tmpdir())) {
    const pid = /^playground-e2e-(\d+)-/.exec(name)?.[1];
    if (pid && !readProc(Number(pid))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

// On Ctrl+C the runner ends this file (SIGINT, SIGTERM, then soon a kill) without running `after`.
// The server is not detached, so Ctrl+C reaches it as well; what must happen is done synchronously.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    trackServerTree();
    if (server?.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    void Promise.all([context?.close().catch(() => {}), stopServer()]).finally(() => {
      removeRunDir();
      process.exit(130);
    });
  });
}
// Any other exit: only a synchronous kill is possible.
process.on('exit', () => {
  trackServerTree();
  for (const pid of stillRunning()) process.kill(pid, 'SIGKILL');
  removeRunDir();
});

async function startServer(): Promise<void> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const stateDir = join(runDir, 'state');
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [join(root, 'dev', 'start.ts')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      INSPECTOR_PORT: String(inspectorPort),
      DEV_STATE_DIR: stateDir,
      // The built-in offline model: deterministic, streams word by word, needs no network.
      OPENAI_API_KEY: '',
      DATABASE_URL: '',
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolveReady, fail) => {
    const onData = (chunk: Buffer) => {
      serverOutput += chunk.toString();
      if (serverOutput.includes('Conversations API ready')) resolveReady();
    };
    server?.stdout?.on('data', onData);
    server?.stderr?.on('data', onData);
    server?.once('exit', (code) => fail(new Error(`npm run dev exited early (${code}):\n${serverOutput}`)));
    timer = setTimeout(
      () => fail(new Error(`npm run dev was not ready in ${STARTUP_MS} ms:\n${serverOutput}`)),
      STARTUP_MS,
    );
  });
  try {
    await ready;
  } finally {
    clearTimeout(timer);
    trackServerTree();
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** The text of the first match, or '' when there is none: never waits (elements come and go while streaming). */
const text = async (locator: Locator) => (await locator.allTextContents())[0] ?? '';
const lastReply = () => page.locator('#messages > li.assistant').last();
const streamingReply = () => page.locator('#messages > li[data-streaming] .content');
/** The reply being streamed, read in one step; null once it is no longer streaming. */
const streamingState = () =>
  page.evaluate(() => {
    const content = document.querySelector('#messages > li[data-streaming] .content');
    return content ? { text: content.textContent ?? '', live: content.getAttribute('aria-live') } : null;
  });

/**
 * Waits until the chat error box is on screen (not merely in the DOM) with `status` and `pattern` in its
 * text, then checks it is still on screen once the page has re-read the session after the failed send.
 */
async function expectVisibleSendError(status: number, pattern: RegExp): Promise<string> {
  const error = page.locator('#chat-error');
  const shown = async () => (await error.isVisible()) && (await text(error)).startsWith(`${status} `);
  await waitUntil(`a visible ${status} error`, shown);
  await page.waitForLoadState('networkidle');
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(await shown(), `the ${status} error was hidden again after the send`);
  const message = await text(error);
  assert.match(message, pattern);
  return message;
}

/** The admin API of the dev server under test, with the token npm run dev generated in its state folder. */
async function adminCall(method: string, path: string, body?: unknown): Promise<any> {
  const { adminToken } = JSON.parse(readFileSync(join(runDir, 'state', 'state.json'), 'utf8')) as {
    adminToken: string;
  };
  const res = await fetch(`${baseUrl}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

/** Waits for the newest reply to be stored (not streaming any more) and returns its text. */
async function finalReply(): Promise<string> {
  await waitUntil('the reply to finish', async () => {
    const reply = lastReply();
    return (await reply.count()) > 0 && (await reply.getAttribute('data-streaming')) === null
      ? ['COMPLETE', 'STOPPED', 'INCOMPLETE'].includes((await reply.getAttribute('data-status')) ?? '')
      : false;
  });
  return text(lastReply().locator('.content'));
}

before(async () => {
  removeStaleRunDirs();
  mkdirSync(runDir, { recursive: true });
  await startServer();
  // A fresh profile (user-data-dir) every run.
  context = await chromium.launchPersistentContext(join(runDir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    artifactsDir: join(runDir, 'chromium-artifacts'),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

after(async () => {
  await context?.close().catch(() => {});
  await stopServer();
  removeRunDir();
});

describe('playground page', { timeout: 300_000 }, () => {
  it('pre-fills the demo credentials of npm run dev and connects', async () => {
    const res = await page.goto(`${baseUrl}/`);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Conversations API playground');
    await page.getByText('Connected to organization').waitFor();
    await page.getByText('Demo credentials from npm run dev.').waitFor();
    assert.match(await page.getByLabel('Organization ID (X-Organization-ID)').inputValue(), /^org_/);
    assert.match(await page.getByLabel('API key (X-API-Key)').inputValue(), /\S{10,}/);
    // The demo persona of npm run dev is listed.
    await page.getByRole('button', { name: /Customer Support Agent/ }).waitFor();
  });

  it('shows 401 and 403 visibly, then recovers with the demo credentials', async () => {
    const key = page.getByLabel('API key (X-API-Key)');
    const org = page.getByLabel('Organization ID (X-Organization-ID)');
    const goodOrg = await org.inputValue();
    const error = page.locator('#creds-error');

    await key.fill('pk_not-a-real-key-0000000000000');
    await page.getByRole('button', { name: 'Save and connect' }).click();
    await waitUntil('a 401 message', async () => (await text(error)).includes('401'));
    assert.ok(await error.isVisible());

    await page.getByRole('button', { name: 'Use demo credentials' }).click();
    await page.getByText('Connected to organization').waitFor();
    await org.fill('org_someone_else');
    await page.getByRole('button', { name: 'Save and connect' }).click();
    await waitUntil('a 403 message', async () => (await text(error)).includes('403'));

    await org.fill(goodOrg);
    await page.getByRole('button', { name: 'Save and connect' }).click();
    await page.getByText('Connected to organization').waitFor();
    assert.equal(await error.isVisible(), false);
  });

  it('creates and edits a persona', async () => {
    await page.getByRole('button', { name: 'New persona' }).click();
    await page.getByLabel('Name', { exact: true }).fill('E2E Librarian');
    await page.getByLabel('Instructions (system prompt)').fill('You summarise documents in two sentences.');
    await page.getByLabel('Greeting (first message of new sessions)').fill('Welcome to the e2e library!');
    await page.getByRole('button', { name: 'Create persona' }).click();
    const listed = page.getByRole('button', { name: 'Edit persona E2E Librarian' });
    await listed.waitFor();

    await listed.click();
    await page.getByLabel('Description', { exact: true }).fill('Reads what you attach');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await waitUntil('version 2 of the persona', async () => (await text(listed)).includes('v2'));
    assert.match(await text(listed), /Reads what you attach/);
  });

  it('starts a session with the new persona', async () => {
    await page.getByLabel('Persona', { exact: true }).first().selectOption({ label: 'E2E Librarian' });
    await page.getByLabel('Title', { exact: true }).fill('E2E session');
    await page.getByLabel('Platform').first().selectOption('API');
    await page.getByRole('button', { name: 'Start session' }).click();
    await waitUntil('the session to open', async () => (await text(page.locator('#chat-title'))) === 'E2E session');
    assert.match(await text(page.locator('#chat-sub')), /E2E Librarian · API · ACTIVE/);
    assert.match(await text(page.locator('#messages')), /Welcome to the e2e library!/);
  });

  it('streams the reply: its text grows in several observations before it is final', async (t) => {
    const message = page.getByLabel(/^Message \(/);
    await message.fill('Hello! What can you do for me?');
    // Keyboard only: Ctrl+Enter sends from the message box.
    await message.press('Control+Enter');
    const seen: string[] = [];
    await waitUntil('the reply to start streaming', async () => (await streamingState()) !== null);
    for (let now = await streamingState(); now !== null; now = await streamingState()) {
      // Screen readers hear the reply through a polite live region.
      assert.equal(now.live, 'polite');
      if (now.text && now.text !== seen.at(-1)) seen.push(now.text);
      await new Promise((r) => setTimeout(r, 20));
    }
    const final = await finalReply();
    assert.match(final, /You said: "Hello! What can you do for me\?"/);
    const partial = seen.filter((s) => s !== final);
    assert.ok(partial.length >= 2, `expected at least two partial texts, saw ${JSON.stringify(seen)}`);
    for (let i = 1; i < partial.length; i++) {
      assert.ok((partial[i] ?? '').startsWith(partial[i - 1] ?? ''), 'each observation extends the previous one');
      assert.ok((partial[i] ?? '').length > (partial[i - 1] ?? '').length);
    }
    for (const s of partial) assert.ok(final.startsWith(s) && s.length < final.length);
    t.diagnostic(
      `${partial.length} partial texts observed (${partial.map((s) => s.length).join(', ')} chars of ${final.length})`,
    );
    // The reply's metadata: model, tokens, latency, context.
    const meta = await text(lastReply().locator('.meta summary'));
    assert.match(meta, /offline\/offline-echo-1 · \d+ tokens \(\d+ in, \d+ out\) · \d+ ms/);
    assert.match(meta, /context: \d+ messages included, \d+ omitted/);
  });

  it('stops a reply in flight and keeps it marked STOPPED', async () => {
    await page
      .getByLabel(/^Message \(/)
      .fill(`Please repeat after me: ${'long words keep the reply going '.repeat(9)}`);
    await page.getByRole('button', { name: 'Send' }).click();
    await waitUntil('the first words', async () => (await text(streamingReply())).length > 0);
    await page.getByRole('button', { name: 'Stop reply' }).click();
    await finalReply();
    assert.equal(await lastReply().getAttribute('data-status'), 'STOPPED');
    assert.match(await text(lastReply().locator('.who')), /STOPPED/);
    assert.equal(await page.locator('#chat-error').isVisible(), false);
  });

  it('sends a PDF as an attachment and gets a reply that used it', async () => {
    await page.getByLabel(/^Message \(/).fill('Please summarize the key points from this document.');
    await page.getByLabel('Attach PDF or text files').setInputFiles(PDF_PATH);
    await page.getByRole('button', { name: `Remove ${PDF_NAME}` }).waitFor();
    await page.getByRole('button', { name: 'Send' }).click();
    // Far enough into the reply for a screenshot worth looking at, still streaming.
    await waitUntil('the reply to be streaming', async () => (await text(streamingReply())).length > 120);
    const shot = process.env.PLAYGROUND_SCREENSHOT;
    if (shot) await page.screenshot({ path: resolve(root, shot) });
    const final = await finalReply();
    assert.match(final, new RegExp(`I read "${PDF_NAME}"`));
    assert.match(await text(lastReply().locator('.meta summary')), new RegExp(`documents used: ${PDF_NAME}`));
    // Once stored, the attachment is listed with what the server extracted (pages).
    const sent = page.locator('#messages > li.user').last().locator('.files');
    await waitUntil('the stored attachment', async () => (await text(sent)).includes(`${PDF_NAME} · 1 page`));
  });

  it('shows 413 for an oversized attachment, keeping the message', async () => {
    await page.getByLabel(/^Message \(/).fill('This one is too big.');
    await page.getByLabel('Attach PDF or text files').setInputFiles({
      name: 'huge.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(10 * 1024 * 1024 + 1024, 'a'),
    });
    await page.getByRole('button', { name: 'Send' }).click();
    await expectVisibleSendError(413, /PAYLOAD_TOO_LARGE/);
    assert.equal(await page.getByLabel(/^Message \(/).inputValue(), 'This one is too big.');
    await page.getByRole('button', { name: 'Remove huge.txt' }).click();
    await page.getByLabel(/^Message \(/).fill('');
  });

  it('shows 400 for a file that is not what it claims to be, keeping the message', async () => {
    await page.getByLabel(/^Message \(/).fill('Here is the report.');
    await page.getByLabel('Attach PDF or text files').setInputFiles({
      name: 'report.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('<!doctype html><title>404</title><p>Not found</p>'),
    });
    await page.getByRole('button', { name: 'Send' }).click();
    await expectVisibleSendError(400, /"report\.pdf" is declared application\/pdf but its content is not a PDF/);
    assert.equal(await page.getByLabel(/^Message \(/).inputValue(), 'Here is the report.');
    await page.getByRole('button', { name: 'Remove report.pdf' }).click();
  });

  it("shows 429 when the organization's daily model calls are used up", async () => {
    const orgId = await page.getByLabel('Organization ID (X-Organization-ID)').inputValue();
    await adminCall('PATCH', `/organizations/${orgId}`, { dailyModelCallCap: 0 });
    try {
      const before = await page.locator('#messages > li').count();
      await page.getByLabel(/^Message \(/).fill('One more, please.');
      await page.getByRole('button', { name: 'Send' }).click();
      await expectVisibleSendError(429, /RATE_LIMITED: This organization has used its 0 model calls for today/);
      assert.equal(await page.locator('#messages > li').count(), before, 'nothing was stored');
    } finally {
      await adminCall('PATCH', `/organizations/${orgId}`, { dailyModelCallCap: null });
    }
  });

  // The offline model never fails, so the provider's failures are played by the browser's network
  // layer, in the shapes the API sends them: a streamed turn whose stored reply is INCOMPLETE with the
  // error in its metadata (a model that timed out, 504), and a refused request (502).
  it('shows 504 when the model times out mid-turn, and 502 when the provider fails', async () => {
    const sessionId = (await text(page.locator('#chat-sub'))).split(' · ').at(-1) ?? '';
    const at = new Date().toISOString();
    const user = {
      id: 'msg_E2EUSER',
      chatSessionId: sessionId,
      role: 'USER',
      content: 'Are you there?',
      status: 'COMPLETE',
      metadata: {},
      attachments: [],
      createdAt: at,
      updatedAt: at,
    };
    const reply = {
      ...user,
      id: 'msg_E2EREPLY',
      role: 'ASSISTANT',
      content: 'I was about to',
      status: 'INCOMPLETE',
      metadata: { error: { code: 'MODEL_TIMEOUT', message: 'The model did not respond within 60 s.' } },
    };
    const sse = [
      'event: connected\ndata: {}\n\n',
      `id: msg_E2EREPLY:0\ndata: ${JSON.stringify({ type: 'message', message: user, replyId: reply.id })}\n\n`,
      `id: msg_E2EREPLY:done\ndata: ${JSON.stringify({ type: 'reply', message: reply })}\n\n`,
      'event: return\ndata: \n\n',
    ].join('');
    await page.route('**/api/trpc/chat.streamMessage*', (route) =>
      route.fulfill({ status: 200, contentType: 'text/event-stream', body: sse }),
    );
    try {
      await page.getByLabel(/^Message \(/).fill('Are you there?');
      await page.getByRole('button', { name: 'Send' }).click();
      await expectVisibleSendError(504, /MODEL_TIMEOUT: The model did not respond within 60 s\./);
      await page.unroute('**/api/trpc/chat.streamMessage*');

      const body = {
        error: {
          message: 'The reply could not be generated: the model provider answered HTTP 500.',
          code: -32603,
          data: { code: 'BAD_GATEWAY', httpStatus: 502, path: 'chat.streamMessage', appCode: 'MODEL_ERROR' },
        },
      };
      await page.route('**/api/trpc/chat.streamMessage*', (route) =>
        route.fulfill({ status: 502, contentType: 'application/json', body: JSON.stringify(body) }),
      );
      await page.getByLabel(/^Message \(/).fill('Still there?');
      await page.getByRole('button', { name: 'Send' }).click();
      await expectVisibleSendError(502, /MODEL_ERROR: .*answered HTTP 500/);
    } finally {
      await page.unroute('**/api/trpc/chat.streamMessage*');
      await page.getByLabel(/^Message \(/).fill('');
    }
  });

  it('renames, archives and reactivates the session', async () => {
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New title').fill('E2E session (renamed)');
    await page.getByRole('button', { name: 'Save title' }).click();
    await waitUntil('the new title', async () => (await text(page.locator('#chat-title'))) === 'E2E session (renamed)');

    await page.getByRole('button', { name: 'Archive' }).click();
    await page.getByText('This session is archived').waitFor();
    assert.equal(await page.locator('#composer').isVisible(), false);
    await page.locator('#f-status').selectOption('ARCHIVED');
    await waitUntil('the archived filter', async () => (await text(page.locator('#sessions'))).includes('renamed'));
    await page.locator('#f-status').selectOption('ACTIVE');
    await waitUntil('the active filter', async () => !(await text(page.locator('#sessions'))).includes('renamed'));
    await page.locator('#f-status').selectOption('');

    await page.getByRole('button', { name: 'Reactivate' }).click();
    await page.locator('#composer').waitFor();
    assert.match(await text(page.locator('#chat-sub')), /ACTIVE/);
  });

  it('finds the session and its history after a reload', async () => {
    await page.reload();
    const item = page.locator('#sessions .pick', { hasText: 'E2E session (renamed)' });
    await item.waitFor();
    assert.match(await text(item), /E2E Librarian · API · ACTIVE · 7 msgs/);
    await item.click();
    await waitUntil('the history', async () =>
      (await text(page.locator('#messages'))).includes(`I read "${PDF_NAME}"`),
    );
    assert.equal(await page.locator('#messages > li').count(), 7);
  });

  it('rates a reply, finds it by search and exports the session', async () => {
    await page.locator('#sessions .pick', { hasText: 'E2E session (renamed)' }).click();
    await waitUntil('the history', async () => (await text(page.locator('#messages'))).includes('You said'));
    // The session was on screen already: wait until its reopening (history and ratings) has rendered,
    // or the click lands on buttons the new render replaces.
    await page.waitForLoadState('networkidle');
    const helpful = () => lastReply().getByRole('button', { name: '\u{1F44D} Helpful', exact: true });
    await helpful().click();
    await waitUntil('the rating', async () => (await helpful().getAttribute('aria-pressed')) === 'true');
    await page.getByRole('button', { name: 'Reload' }).click();
    await waitUntil('the rating after reload', async () => (await helpful().getAttribute('aria-pressed')) === 'true');

    await page.getByLabel('Words, "a phrase", or, -not').fill('"What can you do"');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hit = page.locator('#search-results li', { hasText: 'E2E session (renamed)' }).first();
    await hit.waitFor();
    assert.match(await text(hit.locator('mark').first()), /what/i);

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export Markdown' }).click();
    const file = await (await download).path();
    const markdown = readFileSync(file, 'utf8');
    assert.match(markdown, /^# E2E session \(renamed\)/);
    assert.match(markdown, /rated 👍/);
  });

  it('fits a 390 px wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    const narrow = process.env.PLAYGROUND_SCREENSHOT_NARROW;
    if (narrow) {
      await page.locator('#messages > li').last().scrollIntoViewIfNeeded();
      await page.screenshot({ path: resolve(root, narrow) });
    }
  });

  it("clears the previous organization's conversation when new credentials fail", async () => {
    assert.ok((await page.locator('#messages > li').count()) > 0, 'a conversation is open');
    await page.getByLabel('API key (X-API-Key)').fill('pk_not-a-real-key-1111111111111');
    await page.getByRole('button', { name: 'Save and connect' }).click();
    await waitUntil(
      'a visible 401',
      async () =>
        (await page.locator('#creds-error').isVisible()) && (await text(page.locator('#creds-error'))).includes('401'),
    );
    assert.equal(await page.locator('#messages > li').count(), 0);
    assert.equal(await page.locator('#sessions > li').count(), 0);
    assert.equal(await page.locator('#personas > li').count(), 0);
    assert.equal(await text(page.locator('#chat-title')), 'Conversation');
    assert.equal(await page.locator('#composer').isVisible(), false);
    assert.equal(await page.locator('#chat-actions').isVisible(), false);

    await page.getByRole('button', { name: 'Use demo credentials' }).click();
    await page.getByText('Connected to organization').waitFor();
    await page.locator('#sessions .pick', { hasText: 'E2E session (renamed)' }).waitFor();
  });

  it('raised no script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
