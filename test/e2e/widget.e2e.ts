// The callbacks given to page.evaluate run in the browser.
/// <reference lib="dom" />
/**
 * End to end: the embeddable widget (GET /widget.js) in headless Chromium. `npm run dev` serves the API
 * on one origin; a small page server here serves a web page that embeds the widget on another origin
 * (allowed for the publishable key) and on a third (not allowed).
 *
 *   npm run test:e2e
 *
 * Needs Debian's Chromium at /usr/bin/chromium (CHROMIUM_PATH overrides). WIDGET_SCREENSHOT=docs/widget.png
 * also saves a screenshot of the open widget (after a visitor sent a file).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STARTUP_MS = 180_000;
const runDir = join(tmpdir(), `widget-e2e-${process.pid}-${Date.now().toString(36)}`);

let server: ChildProcess | undefined;
let serverOutput = '';
let apiBase = '';
let pages: Server | undefined;
let allowedOrigin = '';
let otherOrigin = '';
let context: BrowserContext | undefined;
let page: Page;
let widgetKey = '';
let personaId = '';
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

/** Stops `npm run dev` and everything it started: it runs in its own process group, ended by its id. */
function stopServer(signal: NodeJS.Signals = 'SIGTERM'): void {
  if (!server?.pid || server.exitCode !== null || server.signalCode !== null) return;
  try {
    process.kill(-server.pid, signal);
  } catch {
    // already gone
  }
}
process.on('exit', () => {
  stopServer('SIGKILL');
  rmSync(runDir, { recursive: true, force: true });
});

async function startServer(): Promise<void> {
  const [port, inspectorPort] = [
    Number(process.env.WIDGET_E2E_API_PORT) || (await freePort()),
    Number(process.env.WIDGET_E2E_INSPECTOR_PORT) || (await freePort()),
  ];
  apiBase = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [join(root, 'dev', 'start.ts')], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      INSPECTOR_PORT: String(inspectorPort),
      DEV_STATE_DIR: join(runDir, 'state'),
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
    timer = setTimeout(() => fail(new Error(`npm run dev was not ready:\n${serverOutput}`)), STARTUP_MS);
  });
  try {
    await ready;
  } finally {
    clearTimeout(timer);
  }
}

async function api(path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown }) {
  const res = await fetch(`${apiBase}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const body = (await res.json()) as any;
  assert.ok(res.ok, `${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** An organization with a persona and a publishable key for the allowed origin, made as an operator would. */
async function setUpOrganization(): Promise<void> {
  const { adminToken } = JSON.parse(readFileSync(join(runDir, 'state', 'state.json'), 'utf8'));
  const adminHeaders = { authorization: `Bearer ${adminToken}` };
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
  const port = Number(process.env.WIDGET_E2E_PAGE_PORT) || (await freePort());
  allowedOrigin = `http://127.0.0.1:${port}`;
  // Another host name for the same server is another origin, one the key does not allow.
  otherOrigin = `http://localhost:${port}`;
  pages = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>Acme shop</title></head>
<body style="font-family:sans-serif;margin:40px;background:#fafaf9">
<h1>Acme shop</h1><p>Our products are great. Questions? Use the chat button.</p>
<script src="${apiBase}/widget.js" data-key="${widgetKey}" data-persona="${personaId}"
  data-color="#0f766e" data-greeting="Chat with Acme's assistant" async></script>
</body></html>`);
  });
  await new Promise<void>((ready) => pages?.listen(port, '127.0.0.1', ready));
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Playwright locators pierce open shadow roots, so the widget is found by role like any page content. */
const launcher = () => page.getByRole('button', { name: /Open chat|Close chat/ });
const bubbles = (role: string) => page.locator(`[data-persona-widget] .msg.${role}`);
const alertText = () => page.getByRole('alert').textContent();

before(async () => {
  mkdirSync(runDir, { recursive: true });
  await startServer();
  await startPages();
  await setUpOrganization();
  context = await chromium.launchPersistentContext(join(runDir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    viewport: { width: 1100, height: 720 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

after(async () => {
  await context?.close().catch(() => {});
  await new Promise<void>((done) => (pages ? pages.close(() => done()) : done()));
  stopServer();
  rmSync(runDir, { recursive: true, force: true });
});

describe('embeddable widget', { timeout: 300_000 }, () => {
  it('lets a visitor on an allowed origin chat and see the reply stream in', async () => {
    await page.goto(`${allowedOrigin}/`);
    await launcher().click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await waitUntil('the greeting', async () => (await bubbles('ASSISTANT').count()) === 1);
    assert.equal(await page.getByRole('heading', { level: 2 }).textContent(), 'Shop Assistant');
    assert.equal(await bubbles('ASSISTANT').first().textContent(), 'Hello! Ask me about your order.');

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
    assert.ok(seen.size >= 3, `expected the reply to stream in (saw ${seen.size} partial lengths)`);
    const reply = (await bubbles('ASSISTANT').nth(1).textContent()) ?? '';
    assert.match(reply, /order number 4242/);
    assert.equal(await bubbles('USER').count(), 1);
  });

  it('continues the same session after a reload', async () => {
    const before = await page.evaluate(() => JSON.stringify(localStorage));
    await page.reload();
    await launcher().click();
    await waitUntil('the earlier conversation', async () => (await bubbles('ASSISTANT').count()) === 2);
    assert.equal(await bubbles('USER').count(), 1);
    assert.equal(await page.evaluate(() => JSON.stringify(localStorage)), before, 'a new session was started');

    await page.getByRole('textbox', { name: 'Your message' }).fill('And the second question?');
    await page.getByRole('button', { name: 'Send' }).click();
    await waitUntil('the second reply', async () => {
      const last = bubbles('ASSISTANT').nth(2);
      return (await last.count()) > 0 && !(await last.evaluate((el) => el.hasAttribute('aria-busy')));
    });
    assert.match((await bubbles('ASSISTANT').nth(2).textContent()) ?? '', /second question/);
    // Escape closes the panel and gives focus back to the launcher.
    await page.keyboard.press('Escape');
    await waitUntil('the panel to close', async () => !(await page.getByRole('dialog').isVisible()));
    assert.equal(await launcher().getAttribute('aria-expanded'), 'false');
  });

  it('lets the visitor stop a reply while it streams', async () => {
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
    assert.doesNotMatch(stopped, /word29/, 'the reply ran to its end despite Stop');
    assert.equal(await page.getByRole('button', { name: 'Stop' }).isVisible(), false);
    await page.keyboard.press('Escape');
  });

  it('lets the visitor attach a file (keyboard-reachable button, removable) and the reply reads it', async () => {
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
    assert.equal(await page.getByRole('button', { name: 'Remove wrong.txt' }).count(), 0);

    // A file the server refuses (not UTF-8 text): the error is shown, the message and file come back to fix.
    const users = await bubbles('USER').count();
    await choose({ name: 'bad.txt', mimeType: 'text/plain', buffer: Buffer.from([0xff, 0xfe, 0x41, 0x00]) });
    await page.getByRole('textbox', { name: 'Your message' }).fill('Can you read this?');
    await page.getByRole('button', { name: 'Send' }).click();
    await waitUntil('the server refusal', async () => /not valid UTF-8 text/.test((await alertText()) ?? ''));
    assert.equal(await bubbles('USER').count(), users, 'the refused message stayed in the log');
    assert.equal(await page.getByRole('textbox', { name: 'Your message' }).inputValue(), 'Can you read this?');
    await page.getByRole('button', { name: 'Remove bad.txt' }).click();

    const note = 'Order 4242 was shipped on Tuesday by parcel post with tracking code ZX81.';
    await choose({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(note) });
    await page.getByRole('button', { name: 'Remove notes.txt' }).waitFor();
    assert.equal(await attach.isDisabled(), true, 'the key allows one file per message');
    const replies = await bubbles('ASSISTANT').count();
    await page.getByRole('textbox', { name: 'Your message' }).fill('When was my order shipped?');
    await page.getByRole('button', { name: 'Send' }).click();
    assert.match((await bubbles('USER').last().textContent()) ?? '', /Attached: notes\.txt/);
    const reply = bubbles('ASSISTANT').nth(replies);
    await waitUntil('the reply about the file', async () =>
      (await reply.count()) > 0 ? reply.evaluate((el) => !el.hasAttribute('aria-busy') && !!el.textContent) : false,
    );
    // The offline model quotes the documents it was given: the file's text reached the model.
    assert.match((await reply.textContent()) ?? '', /I read "notes\.txt".*tracking code ZX81/s);
    assert.equal(await page.getByRole('button', { name: 'Remove notes.txt' }).count(), 0);
    if (process.env.WIDGET_SCREENSHOT) await page.screenshot({ path: process.env.WIDGET_SCREENSHOT });
    await page.keyboard.press('Escape');
  });

  it('refuses a page on an origin the key does not allow, with a clear message and no session', async () => {
    const started: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('widget.startSession')) started.push(req.url());
    });
    await page.goto(`${otherOrigin}/`);
    await launcher().click();
    await waitUntil('the refusal', async () => /not available on http:\/\/localhost/.test((await alertText()) ?? ''));
    assert.equal(await page.getByRole('textbox', { name: 'Your message' }).isDisabled(), true);
    assert.deepEqual(started, []);
    // And had the page tried anyway, the API would have refused it (no CORS, 403).
    const direct = await fetch(`${apiBase}/widget/v1/${widgetKey}/trpc/widget.startSession`, {
      method: 'POST',
      headers: { origin: otherOrigin, 'content-type': 'application/json' },
      body: JSON.stringify({ personaId }),
    });
    assert.equal(direct.status, 403);
    assert.equal(direct.headers.get('access-control-allow-origin'), null);
  });

  it('previews the widget on the playground page for a key that allows the API origin', async () => {
    const { adminToken } = JSON.parse(readFileSync(join(runDir, 'state', 'state.json'), 'utf8'));
    const orgId = (await api(`/admin/v1/organizations`, { headers: { authorization: `Bearer ${adminToken}` } })).find(
      (o: { name: string }) => o.name === 'Widget shop',
    ).id;
    const preview = await api(`/admin/v1/organizations/${orgId}/publishable-keys`, {
      headers: { authorization: `Bearer ${adminToken}` },
      body: { name: 'Preview', allowedOrigins: [apiBase], personaIds: [personaId] },
    });
    await page.goto(`${apiBase}/playground/widget?key=${preview.key}&persona=${personaId}`);
    await launcher().click();
    await waitUntil('the greeting in the preview', async () => (await bubbles('ASSISTANT').count()) === 1);
    assert.equal(await bubbles('ASSISTANT').first().textContent(), 'Hello! Ask me about your order.');
  });

  it('raised no page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
