// @ts-check
/**
 * The widget's calls: tRPC under /widget/v1/<publishable key>/trpc with the visitor token, and turns
 * read as server-sent events through the shared parser.
 */
import { readSse } from '../sse.js';

/** @typedef {{ sessionId: string, token: string, expiresAt: string }} Visit */

/** An error with the HTTP status, so that callers can tell a refused request from a lost connection. */
export class WidgetError extends Error {
  /** @param {string} message @param {number | undefined} status */
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/**
 * tRPC error → a sentence for the visitor (with the wait for 429s).
 * @param {any} body
 * @param {Response} [res]
 */
export function problem(body, res) {
  const status = res ? res.status : body?.data?.httpStatus;
  if (status === 429) {
    const wait = res?.headers.get('retry-after');
    return `You are sending messages too quickly.${wait ? ` Please wait ${wait} s and try again.` : ''}`;
  }
  return body?.error?.message || body?.message || 'Something went wrong; please try again.';
}

/**
 * @param {string} base the key's endpoint: <api origin>/widget/v1/<key>
 * @param {() => Visit | null} visit the current session and visitor token, once there is one
 */
export function createClient(base, visit) {
  /** @returns {Record<string, string>} */
  const headers = () => {
    const token = visit()?.token;
    return token
      ? { 'content-type': 'application/json', 'x-visitor-token': token }
      : { 'content-type': 'application/json' };
  };
  /** @param {Response} res */
  const refused = async (res) => new WidgetError(problem(await res.json().catch(() => ({})), res), res.status);

  /**
   * @param {string} path
   * @param {unknown} args
   * @param {'GET' | 'POST'} method
   * @returns {Promise<any>}
   */
  const call = async (path, args, method) => {
    const url = `${base}/trpc/${path}`;
    const res =
      method === 'GET'
        ? await fetch(`${url}?input=${encodeURIComponent(JSON.stringify(args))}`, { headers: headers() })
        : await fetch(url, { method: 'POST', headers: headers(), body: JSON.stringify(args) });
    if (!res.ok) throw await refused(res);
    const body = await res.json().catch(() => ({}));
    return body.result.data;
  };

  /**
   * A streamed procedure's events (the user message, text deltas, then the stored reply), one by one.
   * @param {string} path
   * @param {unknown} args
   * @returns {AsyncGenerator<any, void, undefined>}
   */
  async function* turn(path, args) {
    const res = await fetch(`${base}/trpc/${path}`, { method: 'POST', headers: headers(), body: JSON.stringify(args) });
    if (!res.ok || !res.body) throw await refused(res);
    for await (const { event, data } of readSse(res.body)) {
      const payload = JSON.parse(data || 'null');
      if (event === 'serialized-error') throw new WidgetError(problem(payload), payload?.data?.httpStatus);
      if (event === 'message' && payload?.type) yield payload;
    }
  }

  /** @param {string} persona */
  const check = async (persona) => {
    const res = await fetch(`${base}/check?persona=${encodeURIComponent(persona)}`);
    return res.json();
  };

  return { call, turn, check };
}

/** @typedef {ReturnType<typeof createClient>} WidgetClient */
