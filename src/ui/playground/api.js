// @ts-check
/**
 * The playground calls the public API exactly as any client does: tRPC over fetch with X-API-Key and
 * X-Organization-ID, subscriptions read as server-sent events (../sse.js).
 */
import { readSse } from '../sse.js';
import { $, h } from './dom.js';
import { state } from './state.js';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string | null} [retryAfter]
   */
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** @type {Record<number, string>} */
const HINTS = {
  401: 'Check the API key.',
  403: 'This key does not belong to that organization: check the organization ID.',
  404: 'It may have been deleted, or belong to another organization.',
  413: 'Too large: each attachment is limited (10 MB by default), and so is their total.',
  415: 'Attach PDF, plain text, Markdown, CSV, JSON or HTML files.',
  429: 'Too many requests: wait a moment and retry.',
  502: 'The model provider failed. Your message was saved; send again to retry.',
  504: 'The model did not answer in time. Your message was saved; send again to retry.',
};

/**
 * A tRPC error body as an ApiError, with the API's own code (appCode) when it gives one.
 * @param {number} status
 * @param {any} err
 * @param {string | null} [retryAfter]
 */
export function errorFrom(status, err, retryAfter) {
  const data = err?.data || {};
  return new ApiError(
    data.httpStatus || status,
    data.appCode || data.code || 'ERROR',
    err?.message || `HTTP ${status}`,
    retryAfter,
  );
}

/**
 * Shows an error in one of the page's alert slots (creds, personas, sessions, chat), or clears it.
 * @param {string} slot
 * @param {unknown} err
 */
export function showError(slot, err) {
  const el = $(`${slot}-error`);
  if (!err) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  const e = err instanceof ApiError ? err : new ApiError(0, '', err instanceof Error ? err.message : String(err));
  let text = (e.status ? `${e.status} ` : '') + (e.code ? `${e.code}: ` : '') + e.message;
  if (e.status === 429 && e.retryAfter) text += ` Retry after ${e.retryAfter} s.`;
  if (HINTS[e.status]) text += `\n${HINTS[e.status]}`;
  el.textContent = '';
  el.hidden = false;
  // Set on the next frame, so that screen readers announce the alert even when its text is unchanged.
  requestAnimationFrame(() => {
    el.textContent = text;
  });
}

export function clearErrors() {
  for (const s of ['creds', 'personas', 'sessions', 'chat']) showError(s, null);
}

/** @param {string} method @param {string} path @param {number} status @param {number} started */
function logCall(method, path, status, started) {
  const log = $('log');
  const ms = Math.round(performance.now() - started);
  log.prepend(h('li', {}, `${method} ${path} \u2192 ${status || 'network error'} (${ms} ms)`));
  while (log.children.length > 30) log.lastChild?.remove();
}

/**
 * One HTTP call of a procedure, logged in the page's "API calls" list.
 * @param {'GET' | 'POST'} method
 * @param {string} path
 * @param {unknown} input
 * @param {AbortSignal} [signal]
 */
async function send(method, path, input, signal) {
  const c = state.creds;
  if (!c) throw new ApiError(0, 'NO_CREDENTIALS', 'Enter an API key and organization ID first.');
  /** @type {Record<string, string>} */
  const headers = { 'x-api-key': c.apiKey, 'x-organization-id': c.organizationId };
  let url = `/api/trpc/${path}`;
  /** @type {RequestInit} */
  const init = { method, headers, signal };
  if (method === 'GET') url += `?input=${encodeURIComponent(JSON.stringify(input || {}))}`;
  else {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify({ json: input });
  }
  const started = performance.now();
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e instanceof Error && e.name === 'AbortError') throw e;
    logCall(method, path, 0, started);
    throw new ApiError(0, 'NETWORK', `Could not reach the API (${e instanceof Error ? e.message : e}).`);
  }
  logCall(method, path, res.status, started);
  return res;
}

/** @param {Response} res */
async function failure(res) {
  const body = await res.json().catch(() => null);
  return errorFrom(res.status, body?.error, res.headers.get('retry-after'));
}

/** @param {'GET' | 'POST'} method @param {string} path @param {unknown} input @returns {Promise<any>} */
async function call(method, path, input) {
  const res = await send(method, path, input);
  const body = await res.json().catch(() => null);
  if (!res.ok || !body || body.error) throw errorFrom(res.status, body?.error, res.headers.get('retry-after'));
  return body.result.data;
}

/** @param {string} path @param {unknown} input */
export const query = (path, input) => call('GET', path, input);
/** @param {string} path @param {unknown} input */
export const mutate = (path, input) => call('POST', path, input);

/**
 * A tRPC subscription read as server-sent events: calls onEvent with each event's data until the
 * server's "return" event or the end of the stream; a "serialized-error" event is thrown.
 * @param {'GET' | 'POST'} method
 * @param {string} path
 * @param {unknown} input
 * @param {(event: any) => void} onEvent
 * @param {AbortSignal} signal
 */
export async function subscribe(method, path, input, onEvent, signal) {
  const res = await send(method, path, input, signal);
  if (!res.ok || !res.body) throw await failure(res);
  for await (const { event, data } of readSse(res.body)) {
    if (event === 'serialized-error') throw errorFrom(500, JSON.parse(data));
    if (event === 'return') return;
    if (event === 'message' && data) onEvent(JSON.parse(data));
  }
}
