/** What both e2e files use: the dev server under test, its admin API, and waiting for the page. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';

/** The dev server started by playwright.config.ts. */
export const apiBase = `http://127.0.0.1:${process.env.E2E_PORT}`;

/** The admin token npm run dev generated in its state folder. */
export function adminToken(): string {
  const state = JSON.parse(readFileSync(join(process.env.E2E_STATE_DIR ?? '', 'state.json'), 'utf8'));
  return state.adminToken as string;
}

/** A JSON call to the dev server that must succeed. */
export async function api(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<any> {
  const res = await fetch(`${apiBase}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  expect(res.ok, `${path}: ${res.status} ${text}`).toBe(true);
  return JSON.parse(text);
}

/** The operator API (/admin/v1) with the dev server's admin token. */
export const adminCall = (method: string, path: string, body?: unknown) =>
  api(`/admin/v1${path}`, { method, headers: { authorization: `Bearer ${adminToken()}` }, body });

/** Polls `check` until it answers true (elements come and go while a reply streams). */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeout = 20_000): Promise<void> {
  await expect.poll(check, { message: `timed out waiting for ${what}`, timeout, intervals: [20, 50] }).toBe(true);
}

/** The text of the first match, or '' when there is none: never waits. */
export const text = async (locator: Locator) => (await locator.allTextContents())[0] ?? '';

/** Records a page's uncaught errors and what its CSP blocked (an inline script or style would show there). */
export function watchPage(page: Page, pageErrors: string[], cspViolations: string[]): void {
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
}
