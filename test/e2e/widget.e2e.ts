// The callbacks given to page.evaluate run in the browser.
/// <reference lib="dom" />
/**
 * End to end: the embeddable widget (GET /widget.js) in headless Chromium. `npm run dev` (started by
 * playwright.config.ts) serves the API on one origin; a small page server here serves a web page that
 * embeds the widget on another origin (allowed for the publishable key) and on a third (not allowed).
 *
 * WIDGET_SCREENSHOT=docs/widget.png also saves a screenshot of the open widget (after a visitor sent a file).
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { type BrowserContext, expect, type Page, test } from '@playwright/test';
import { adminToken, api, apiBase, waitUntil, watchPage } from './support.ts';

test.describe.configure({ mode: 'serial' });

let pages: Server | undefined;
let allowedOrigin = '';
let otherOrigin = '';
let context: BrowserContext;
let page: Page;
let widgetKey = '';
let personaId = '';
const pageErrors: string[] = [];
/** What a page's CSP blocked: the preview page has a strict one, which the widget must work under. */
const cspViolations: string[] = [];

/** An organization with a persona and a publishable key for the allowed origin, made as an operator would. */
async function setUpOrganization(): Promise<void> {
  const adminHeaders = { authorization: `Bearer ${adminToken()}` };
  const created = await api('/admin/v1/organizations', { headers: adminHeaders, body: { name: 'Widget shop' } });
  const orgId = created.organization.id as string;
  const persona = await api('/api/trpc/persona.create', {
    headers: { 'x-api-key': created.apiKey.key, 'x-organization-id': orgId },
    body: { name: 'Shop Assistant', instructions: 'Help shoppers.', greeting: 'Hello! Ask me about your order.' },
  });
  personaId = persona.result.data.id;
  const key = await api(`/admin/v1/organizations/${orgId}/publishable-keys`, {
    headers: adminHeaders,
    body: {
      name: 'Shop website',
      allowedOrigins: [allowedOrigin],
      personaIds: [personaId],
      // Files allowed (PDF and plain text, 2 MiB by default) so that the attach button shows.
      visitorLimits: { allowAttachments: true },
    },
  });
  widgetKey = key.key;
}

/** The organization's web page: any origin, the widget from the API's origin via one script tag. */
async function startPages(): Promise<void> {
  pages = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>Acme shop</title></head>
<body style="font-family:sans-serif;margin:40px;background:#fafaf9">
<h1>Acme shop</h1><p>Our products are great. Questions? Use the chat button.</p>
<script src="${apiBase}/widget.js" data-key="${widgetKey}" data-persona="${personaId}"
  data-color="#0f766e" data-greeting="Chat with Acme's assistant" async></script>
</body></html>`);
  });
  const server = pages;
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  allowedOrigin = `http://127.0.0.1:${port}`;
  // Another host name for the same server is another origin, one the key does not allow.
  otherOrigin = `http://localhost:${port}`;
}

/** Playwright locators pierce open shadow roots, so the widget is found by role like any page content. */
const launcher = () => page.getByRole('button', { name: /Open chat|Close chat/ });
const bubbles = (role: string) => page.locator(`[data-persona-widget] .msg.${role}`);
const alertText = () => page.getByRole('alert').textContent();

test.beforeAll(async ({ browser }) => {
  await startPages();
  await setUpOrganization();
  context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  page = await context.newPage();
  watchPage(page, pageErrors, cspViolations);
});

test.afterAll(async () => {
  await context?.close();
  await new Promise<void>((done) => (pages ? pages.close(() => done()) : done()));
});

test.describe('embeddable widget', () => {
  test('lets a visitor on an allowed origin chat and see the reply stream in', async () => {
    await page.goto(`${allowedOrigin}/`);
    await launcher().click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await waitUntil('the greeting', async () => (await bubbles('ASSISTANT').count()) === 1);
    expect(await page.getByRole('heading', { level: 2 }).textContent()).toBe('Shop Assistant');
    expect(await bubbles('ASSISTANT').first().textContent()).toBe('Hello! Ask me about your order.');

    // Keyboard only: the message box has focus after opening; Enter sends.
    const question = `Where is my order number 4242? ${'It was a blue teapot with a matching lid. '.repeat(4)}`;
    await waitUntil('focus in the message box', async () =>
      page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.tagName === 'TEXTAREA'),
    );
    await page.keyboard.type(question.trim(), { delay: 0 });
    await page.keyboard.press('Enter');

    // The reply grows in place while it streams: several different partial lengths are seen.
    const seen = new Set<number>();
    await waitUntil('the reply to finish streaming', async () => {
      const reply = bubbles('ASSISTANT').nth(1);
      if ((await reply.count()) === 0) return false;
      const state = await reply.evaluate((el) => ({
        len: el.textContent?.length ?? 0,
        busy: el.hasAttribute('aria-busy'),
      }));
      if (state.busy) seen.add(state.len);
      return !state.busy && state.len > 0;
    });
    expect(seen.size >= 3, `expected the reply to stream in (saw ${seen.size} partial lengths)`).toBeTruthy();
    const reply = (await bubbles('ASSISTANT').nth(1).textContent()) ?? '';
    expect(reply).toMatch(/order number 4242/);
    expect(await bubbles('USER').count()).toBe(1);
  });

  test('continues the same session after a reload', async () => {
    const before = await page.evaluate(() => JSON.stringify(localStorage));
    await page.reload();
    await launcher().click();
    await waitUntil('the earlier conversation', async () => (await bubbles('ASSISTANT').count()) === 2);
    expect(await bubbles('USER').count()).toBe(1);
    expect(await page.evaluate(() => JSON.stringify(localStorage)), 'a new session was started').toBe(before);

    await page.getByRole('textbox', { name: 'Your message' }).fill('And the second question?');
    await page.getByRole('button', { name: 'Send' }).click();
    await waitUntil('the second reply', async () => {
      const last = bubbles('ASSISTANT').nth(2);
      return (await last.count()) > 0 && !(await last.evaluate((el) => el.hasAttribute('aria-busy')));
    });
    expect((await bubbles('ASSISTANT').nth(2).textContent()) ?? '').toMatch(/second question/);
    // Escape closes the panel and gives focus back to the launcher.
    await page.keyboard.press('Escape');
    await waitUntil('the panel to close', async () => !(await page.getByRole('dialog').isVisible()));
    expect(await launcher().getAttribute('aria-expanded')).toBe('false');
  });

  test('lets the visitor stop a reply while it streams', async () => {
    await launcher().click();
    const replies = await bubbles('ASSISTANT').count();
    const words = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    await page.getByRole('textbox', { name: 'Your message' }).fill(`Please repeat: ${words}`);
    await page.getByRole('button', { name: 'Send' }).click();
    const streaming = bubbles('ASSISTANT').nth(replies);
    await waitUntil('the reply to start streaming', async () =>
      (await streaming.count()) > 0
        ? streaming.evaluate((el) => el.hasAttribute('aria-busy') && (el.textContent?.length ?? 0) > 0)
        : false,
    );
    // The whole echo (under the offline model's 300-character quote limit) would end with word29.
    await page.getByRole('button', { name: 'Stop' }).click();
    await waitUntil('the stopped note', async () =>
      (await page.locator('[data-persona-widget] .msg.note').allTextContents()).includes('Reply stopped.'),
    );
    const stopped = (await streaming.textContent()) ?? '';
    expect(stopped, 'the reply ran to its end despite Stop').not.toMatch(/word29/);
    expect(await page.getByRole('button', { name: 'Stop' }).isVisible()).toBe(false);
    await page.keyboard.press('Escape');
  });

  test('lets the visitor attach a file (keyboard-reachable button, removable) and the reply reads it', async () => {
    await launcher().click();
    const attach = page.getByRole('button', { name: 'Attach a file' });
    await attach.waitFor();
    const choose = async (file: { name: string; mimeType: string; buffer: Buffer }) => {
      const chooser = page.waitForEvent('filechooser');
      await attach.focus();
      await page.keyboard.press('Enter'); // the button works from the keyboard
      await (await chooser).setFiles(file);
    };
    // A type the key does not accept is refused in the widget, with the reason.
    await choose({ name: 'prices.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n') });
    await waitUntil('the type refusal', async () => /cannot be sent here/.test((await alertText()) ?? ''));
    // A chosen file is listed with a remove control, which takes it away again.
    await choose({ name: 'wrong.txt', mimeType: 'text/plain', buffer: Buffer.from('not this one') });
    await page.getByRole('button', { name: 'Remove wrong.txt' }).click();
    expect(await page.getByRole('button', { name: 'Remove wrong.txt' }).count()).toBe(0);

    // A file the server refuses (not UTF-8 text): the error is shown, the message and file come back to fix.
    const users = await bubbles('USER').count();
    await choose({ name: 'bad.txt', mimeType: 'text/plain', buffer: Buffer.from([0xff, 0xfe, 0x41, 0x00]) });
    await page.getByRole('textbox', { name: 'Your message' }).fill('Can you read this?');
    await page.getByRole('button', { name: 'Send' }).click();
    await waitUntil('the server refusal', async () => /not valid UTF-8 text/.test((await alertText()) ?? ''));
    expect(await bubbles('USER').count(), 'the refused message stayed in the log').toBe(users);
    expect(await page.getByRole('textbox', { name: 'Your message' }).inputValue()).toBe('Can you read this?');
    await page.getByRole('button', { name: 'Remove bad.txt' }).click();

    const note = 'Order 4242 was shipped on Tuesday by parcel post with tracking code ZX81.';
    await choose({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(note) });
    await page.getByRole('button', { name: 'Remove notes.txt' }).waitFor();
    expect(await attach.isDisabled(), 'the key allows one file per message').toBe(true);
    const replies = await bubbles('ASSISTANT').count();
    await page.getByRole('textbox', { name: 'Your message' }).fill('When was my order shipped?');
    await page.getByRole('button', { name: 'Send' }).click();
    expect((await bubbles('USER').last().textContent()) ?? '').toMatch(/Attached: notes\.txt/);
    const reply = bubbles('ASSISTANT').nth(replies);
    await waitUntil('the reply about the file', async () =>
      (await reply.count()) > 0 ? reply.evaluate((el) => !el.hasAttribute('aria-busy') && !!el.textContent) : false,
    );
    // The offline model quotes the documents it was given: the file's text reached the model.
    expect((await reply.textContent()) ?? '').toMatch(/I read "notes\.txt".*tracking code ZX81/s);
    expect(await page.getByRole('button', { name: 'Remove notes.txt' }).count()).toBe(0);
    if (process.env.WIDGET_SCREENSHOT) await page.screenshot({ path: process.env.WIDGET_SCREENSHOT });
    await page.keyboard.press('Escape');
  });

  test('refuses a page on an origin the key does not allow, with a clear message and no session', async () => {
    const started: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('widget.startSession')) started.push(req.url());
    });
    await page.goto(`${otherOrigin}/`);
    await launcher().click();
    await waitUntil('the refusal', async () => /not available on http:\/\/localhost/.test((await alertText()) ?? ''));
    expect(await page.getByRole('textbox', { name: 'Your message' }).isDisabled()).toBe(true);
    expect(started).toEqual([]);
    // And had the page tried anyway, the API would have refused it (no CORS, 403).
    const direct = await fetch(`${apiBase}/widget/v1/${widgetKey}/trpc/widget.startSession`, {
      method: 'POST',
      headers: { origin: otherOrigin, 'content-type': 'application/json' },
      body: JSON.stringify({ personaId }),
    });
    expect(direct.status).toBe(403);
    expect(direct.headers.get('access-control-allow-origin')).toBe(null);
  });

  test('previews the widget on the playground page for a key that allows the API origin', async () => {
    const admin = { authorization: `Bearer ${adminToken()}` };
    const orgId = (await api(`/admin/v1/organizations`, { headers: admin })).find(
      (o: { name: string }) => o.name === 'Widget shop',
    ).id;
    const preview = await api(`/admin/v1/organizations/${orgId}/publishable-keys`, {
      headers: admin,
      body: { name: 'Preview', allowedOrigins: [apiBase], personaIds: [personaId] },
    });
    await page.goto(`${apiBase}/playground/widget?key=${preview.key}&persona=${personaId}`);
    await launcher().click();
    await waitUntil('the greeting in the preview', async () => (await bubbles('ASSISTANT').count()) === 1);
    expect(await bubbles('ASSISTANT').first().textContent()).toBe('Hello! Ask me about your order.');
  });

  test('raised no page errors and no CSP violations', () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
