// The callbacks given to page.evaluate run in the browser.
/// <reference lib="dom" />
/**
 * End to end: the playground page (GET /) in headless Chromium against `npm run dev` (started by
 * playwright.config.ts). The tests run in order on one page: a conversation builds up.
 *
 * PLAYGROUND_SCREENSHOT=docs/playground.png also saves a desktop screenshot taken mid-reply, and
 * PLAYGROUND_SCREENSHOT_NARROW=<file> one at 390 px wide.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, expect, type Page, test } from '@playwright/test';
import { adminCall, text, waitUntil, watchPage } from './support.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PDF_NAME = 'simple-onepage_minimal-document.pdf';
const PDF_PATH = resolve(root, 'test/fixtures/pdfs', PDF_NAME);

test.describe.configure({ mode: 'serial' });

let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
/** What the page's CSP blocked (an inline script or style would show here). */
const cspViolations: string[] = [];

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext();
  page = await context.newPage();
  watchPage(page, pageErrors, cspViolations);
});

test.afterAll(async () => {
  await context?.close();
});

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
  await waitUntil(`a visible ${status} error`, shown, 15_000);
  await page.waitForLoadState('networkidle');
  await new Promise((r) => setTimeout(r, 500));
  expect(await shown(), `the ${status} error was hidden again after the send`).toBe(true);
  const message = await text(error);
  expect(message).toMatch(pattern);
  return message;
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

test.describe('playground page', () => {
  test('pre-fills the demo credentials of npm run dev and connects', async () => {
    const res = await page.goto('/');
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy'] ?? '').toMatch(/default-src 'none'/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Conversations API playground');
    await page.getByText('Connected to organization').waitFor();
    await page.getByText('Demo credentials from npm run dev.').waitFor();
    expect(await page.getByLabel('Organization ID (X-Organization-ID)').inputValue()).toMatch(/^org_/);
    expect(await page.getByLabel('API key (X-API-Key)').inputValue()).toMatch(/\S{10,}/);
    // The demo persona of npm run dev is listed.
    await page.getByRole('button', { name: /Customer Support Agent/ }).waitFor();
  });

  test('shows 401 and 403 visibly, then recovers with the demo credentials', async () => {
    const key = page.getByLabel('API key (X-API-Key)');
    const org = page.getByLabel('Organization ID (X-Organization-ID)');
    const goodOrg = await org.inputValue();
    const error = page.locator('#creds-error');

    await key.fill('pk_not-a-real-key-0000000000000');
    await page.getByRole('button', { name: 'Save and connect' }).click();
    await waitUntil('a 401 message', async () => (await text(error)).includes('401'));
    expect(await error.isVisible()).toBeTruthy();

    await page.getByRole('button', { name: 'Use demo credentials' }).click();
    await page.getByText('Connected to organization').waitFor();
    await org.fill('org_someone_else');
    await page.getByRole('button', { name: 'Save and connect' }).click();
    await waitUntil('a 403 message', async () => (await text(error)).includes('403'));

    await org.fill(goodOrg);
    await page.getByRole('button', { name: 'Save and connect' }).click();
    await page.getByText('Connected to organization').waitFor();
    expect(await error.isVisible()).toBe(false);
  });

  test('creates and edits a persona', async () => {
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
    expect(await text(listed)).toMatch(/Reads what you attach/);
  });

  test('starts a session with the new persona', async () => {
    await page.getByLabel('Persona', { exact: true }).first().selectOption({ label: 'E2E Librarian' });
    await page.getByLabel('Title', { exact: true }).fill('E2E session');
    await page.getByLabel('Platform').first().selectOption('API');
    await page.getByRole('button', { name: 'Start session' }).click();
    await waitUntil('the session to open', async () => (await text(page.locator('#chat-title'))) === 'E2E session');
    expect(await text(page.locator('#chat-sub'))).toMatch(/E2E Librarian · API · ACTIVE/);
    expect(await text(page.locator('#messages'))).toMatch(/Welcome to the e2e library!/);
  });

  test('streams the reply: its text grows in several observations before it is final', async () => {
    const message = page.getByLabel(/^Message \(/);
    await message.fill('Hello! What can you do for me?');
    // Keyboard only: Ctrl+Enter sends from the message box.
    await message.press('Control+Enter');
    const seen: string[] = [];
    await waitUntil('the reply to start streaming', async () => (await streamingState()) !== null);
    for (let now = await streamingState(); now !== null; now = await streamingState()) {
      // Screen readers hear the reply through a polite live region.
      expect(now.live).toBe('polite');
      if (now.text && now.text !== seen.at(-1)) seen.push(now.text);
      await new Promise((r) => setTimeout(r, 20));
    }
    const final = await finalReply();
    expect(final).toMatch(/You said: "Hello! What can you do for me\?"/);
    const partial = seen.filter((s) => s !== final);
    expect(partial.length >= 2, `expected at least two partial texts, saw ${JSON.stringify(seen)}`).toBeTruthy();
    for (let i = 1; i < partial.length; i++) {
      expect(
        (partial[i] ?? '').startsWith(partial[i - 1] ?? ''),
        'each observation extends the previous one',
      ).toBeTruthy();
      expect((partial[i] ?? '').length > (partial[i - 1] ?? '').length).toBeTruthy();
    }
    for (const s of partial) expect(final.startsWith(s) && s.length < final.length).toBeTruthy();
    test.info().annotations.push({
      type: 'streaming',
      description: `${partial.length} partial texts observed (${partial.map((s) => s.length).join(', ')} chars of ${final.length})`,
    });
    // The reply's metadata: model, tokens, latency, context.
    const meta = await text(lastReply().locator('.meta summary'));
    expect(meta).toMatch(/offline\/offline-echo-1 · \d+ tokens \(\d+ in, \d+ out\) · \d+ ms/);
    expect(meta).toMatch(/context: \d+ messages included, \d+ omitted/);
  });

  test('stops a reply in flight and keeps it marked STOPPED', async () => {
    await page
      .getByLabel(/^Message \(/)
      .fill(`Please repeat after me: ${'long words keep the reply going '.repeat(9)}`);
    await page.getByRole('button', { name: 'Send' }).click();
    await waitUntil('the first words', async () => (await text(streamingReply())).length > 0);
    await page.getByRole('button', { name: 'Stop reply' }).click();
    await finalReply();
    expect(await lastReply().getAttribute('data-status')).toBe('STOPPED');
    expect(await text(lastReply().locator('.who'))).toMatch(/STOPPED/);
    expect(await page.locator('#chat-error').isVisible()).toBe(false);
  });

  test('sends a PDF as an attachment and gets a reply that used it', async () => {
    await page.getByLabel(/^Message \(/).fill('Please summarize the key points from this document.');
    await page.getByLabel('Attach PDF or text files').setInputFiles(PDF_PATH);
    await page.getByRole('button', { name: `Remove ${PDF_NAME}` }).waitFor();
    await page.getByRole('button', { name: 'Send' }).click();
    // Far enough into the reply for a screenshot worth looking at, still streaming.
    await waitUntil('the reply to be streaming', async () => (await text(streamingReply())).length > 120);
    const shot = process.env.PLAYGROUND_SCREENSHOT;
    if (shot) await page.screenshot({ path: resolve(root, shot) });
    const final = await finalReply();
    expect(final).toMatch(new RegExp(`I read "${PDF_NAME}"`));
    expect(await text(lastReply().locator('.meta summary'))).toMatch(new RegExp(`documents used: ${PDF_NAME}`));
    // Once stored, the attachment is listed with what the server extracted (pages).
    const sent = page.locator('#messages > li.user').last().locator('.files');
    await waitUntil('the stored attachment', async () => (await text(sent)).includes(`${PDF_NAME} · 1 page`));
  });

  test('shows 413 for an oversized attachment, keeping the message', async () => {
    await page.getByLabel(/^Message \(/).fill('This one is too big.');
    await page.getByLabel('Attach PDF or text files').setInputFiles({
      name: 'huge.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(10 * 1024 * 1024 + 1024, 'a'),
    });
    await page.getByRole('button', { name: 'Send' }).click();
    await expectVisibleSendError(413, /PAYLOAD_TOO_LARGE/);
    expect(await page.getByLabel(/^Message \(/).inputValue()).toBe('This one is too big.');
    await page.getByRole('button', { name: 'Remove huge.txt' }).click();
    await page.getByLabel(/^Message \(/).fill('');
  });

  test('shows 400 for a file that is not what it claims to be, keeping the message', async () => {
    await page.getByLabel(/^Message \(/).fill('Here is the report.');
    await page.getByLabel('Attach PDF or text files').setInputFiles({
      name: 'report.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('<!doctype html><title>404</title><p>Not found</p>'),
    });
    await page.getByRole('button', { name: 'Send' }).click();
    await expectVisibleSendError(400, /"report\.pdf" is declared application\/pdf but its content is not a PDF/);
    expect(await page.getByLabel(/^Message \(/).inputValue()).toBe('Here is the report.');
    await page.getByRole('button', { name: 'Remove report.pdf' }).click();
  });

  test("shows 429 when the organization's daily model calls are used up", async () => {
    const orgId = await page.getByLabel('Organization ID (X-Organization-ID)').inputValue();
    await adminCall('PATCH', `/organizations/${orgId}`, { dailyModelCallCap: 0 });
    try {
      const before = await page.locator('#messages > li').count();
      await page.getByLabel(/^Message \(/).fill('One more, please.');
      await page.getByRole('button', { name: 'Send' }).click();
      await expectVisibleSendError(429, /RATE_LIMITED: This organization has used its 0 model calls for today/);
      expect(await page.locator('#messages > li').count(), 'nothing was stored').toBe(before);
    } finally {
      await adminCall('PATCH', `/organizations/${orgId}`, { dailyModelCallCap: null });
    }
  });

  // The offline model never fails, so the provider's failures are played by the browser's network
  // layer, in the shapes the API sends them: a streamed turn whose stored reply is INCOMPLETE with the
  // error in its metadata (a model that timed out, 504), and a refused request (502).
  test('shows 504 when the model times out mid-turn, and 502 when the provider fails', async () => {
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

  test('renames, archives and reactivates the session', async () => {
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New title').fill('E2E session (renamed)');
    await page.getByRole('button', { name: 'Save title' }).click();
    await waitUntil('the new title', async () => (await text(page.locator('#chat-title'))) === 'E2E session (renamed)');

    await page.getByRole('button', { name: 'Archive' }).click();
    await page.getByText('This session is archived').waitFor();
    expect(await page.locator('#composer').isVisible()).toBe(false);
    await page.locator('#f-status').selectOption('ARCHIVED');
    await waitUntil('the archived filter', async () => (await text(page.locator('#sessions'))).includes('renamed'));
    await page.locator('#f-status').selectOption('ACTIVE');
    await waitUntil('the active filter', async () => !(await text(page.locator('#sessions'))).includes('renamed'));
    await page.locator('#f-status').selectOption('');

    await page.getByRole('button', { name: 'Reactivate' }).click();
    await page.locator('#composer').waitFor();
    expect(await text(page.locator('#chat-sub'))).toMatch(/ACTIVE/);
  });

  test('finds the session and its history after a reload', async () => {
    await page.reload();
    const item = page.locator('#sessions .pick', { hasText: 'E2E session (renamed)' });
    await item.waitFor();
    expect(await text(item)).toMatch(/E2E Librarian · API · ACTIVE · 7 msgs/);
    await item.click();
    await waitUntil('the history', async () =>
      (await text(page.locator('#messages'))).includes(`I read "${PDF_NAME}"`),
    );
    expect(await page.locator('#messages > li').count()).toBe(7);
  });

  test('rates a reply, finds it by search and exports the session', async () => {
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
    expect(await text(hit.locator('mark').first())).toMatch(/what/i);

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export Markdown' }).click();
    const file = await (await download).path();
    const markdown = readFileSync(file, 'utf8');
    expect(markdown).toMatch(/^# E2E session \(renamed\)/);
    expect(markdown).toMatch(/rated 👍/);
  });

  test('regenerates the last reply and switches between its versions', async () => {
    const first = await lastReply().getAttribute('data-id');
    const regenerate = lastReply().getByRole('button', { name: 'Regenerate', exact: true });
    await regenerate.waitFor();
    const count = () => lastReply().locator('.switch .count');
    await regenerate.click();
    await waitUntil(
      'the new version on screen',
      async () => (await lastReply().getAttribute('data-id')) !== first && (await count().count()) > 0,
    );
    expect(await text(count())).toBe('2/2');
    // The new version took the old one's place: the history still has 7 messages.
    expect(await page.locator('#messages > li').count()).toBe(7);
    await lastReply().getByRole('button', { name: 'Previous version' }).click();
    await waitUntil(
      'the first version back in use',
      async () =>
        (await lastReply().getAttribute('data-id')) === first &&
        (await count().count()) > 0 &&
        (await text(count())) === '1/2',
    );
  });

  test('fits a 390 px wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow <= 0, `the page is ${overflow} px wider than the screen`).toBeTruthy();
    const narrow = process.env.PLAYGROUND_SCREENSHOT_NARROW;
    if (narrow) {
      await page.locator('#messages > li').last().scrollIntoViewIfNeeded();
      await page.screenshot({ path: resolve(root, narrow) });
    }
  });

  test("clears the previous organization's conversation when new credentials fail", async () => {
    expect((await page.locator('#messages > li').count()) > 0, 'a conversation is open').toBeTruthy();
    await page.getByLabel('API key (X-API-Key)').fill('pk_not-a-real-key-1111111111111');
    await page.getByRole('button', { name: 'Save and connect' }).click();
    await waitUntil(
      'a visible 401',
      async () =>
        (await page.locator('#creds-error').isVisible()) && (await text(page.locator('#creds-error'))).includes('401'),
    );
    expect(await page.locator('#messages > li').count()).toBe(0);
    expect(await page.locator('#sessions > li').count()).toBe(0);
    expect(await page.locator('#personas > li').count()).toBe(0);
    expect(await text(page.locator('#chat-title'))).toBe('Conversation');
    expect(await page.locator('#composer').isVisible()).toBe(false);
    expect(await page.locator('#chat-actions').isVisible()).toBe(false);

    await page.getByRole('button', { name: 'Use demo credentials' }).click();
    await page.getByText('Connected to organization').waitFor();
    await page.locator('#sessions .pick', { hasText: 'E2E session (renamed)' }).waitFor();
  });

  test('raised no script errors and no CSP violations', () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
