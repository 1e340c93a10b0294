/**
 * The browser code of src/ui, as the Worker serves it. The files are imported as text modules
 * (wrangler.toml [[rules]] type = "Text"): no build step, the same files in `wrangler dev`, in the
 * vitest pool and in production, and the routes set every header themselves (the page's CSP, the
 * widget's CORS and caching, a per-request flag in the page). Workers static assets would also serve
 * them, but the playground page needs that per-request flag (is /playground/demo.json there?) and the
 * widget an assembled script, so both would go through the Worker anyway.
 */
import type { Context } from 'hono';
import { sha256Hex } from '../auth/keys';
import FILES_JS from '../ui/files.js';
import API_JS from '../ui/playground/api.js';
import BRANCHES_JS from '../ui/playground/branches.js';
import COMPOSER_JS from '../ui/playground/composer.js';
import CONVERSATION_CSS from '../ui/playground/conversation.css';
import CONVERSATION_JS from '../ui/playground/conversation.js';
import CREDENTIALS_JS from '../ui/playground/credentials.js';
import DOM_JS from '../ui/playground/dom.js';
import PLAYGROUND_HTML from '../ui/playground/index.html';
import MAIN_JS from '../ui/playground/main.js';
import MESSAGES_JS from '../ui/playground/messages.js';
import PERSONAS_JS from '../ui/playground/personas.js';
import PICKED_JS from '../ui/playground/picked.js';
import PLAYGROUND_CSS from '../ui/playground/playground.css';
import SESSION_ACTIONS_JS from '../ui/playground/session-actions.js';
import SESSIONS_JS from '../ui/playground/sessions.js';
import STATE_JS from '../ui/playground/state.js';
import TURN_STREAM_JS from '../ui/playground/turn-stream.js';
import VERSIONS_JS from '../ui/playground/versions.js';
import PREVIEW_CSS from '../ui/preview.css';
import SSE_JS from '../ui/sse.js';
import WIDGET_APP_JS from '../ui/widget/app.js';
import WIDGET_CHAT_JS from '../ui/widget/chat.js';
import WIDGET_CLIENT_JS from '../ui/widget/client.js';
import WIDGET_FILES_JS from '../ui/widget/files.js';
import WIDGET_MAIN_JS from '../ui/widget/main.js';
import WIDGET_STYLES_JS from '../ui/widget/styles.js';
import WIDGET_VIEW_JS from '../ui/widget/view.js';

export { PLAYGROUND_HTML };

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** GET /ui/<path>: the path mirrors src/ui, so the modules' relative imports work in the browser as on disk. */
export const UI_FILES: Readonly<Record<string, { body: string; type: string }>> = {
  'sse.js': { body: SSE_JS, type: JS },
  'files.js': { body: FILES_JS, type: JS },
  'preview.css': { body: PREVIEW_CSS, type: CSS },
  'playground/playground.css': { body: PLAYGROUND_CSS, type: CSS },
  'playground/conversation.css': { body: CONVERSATION_CSS, type: CSS },
  'playground/api.js': { body: API_JS, type: JS },
  'playground/branches.js': { body: BRANCHES_JS, type: JS },
  'playground/composer.js': { body: COMPOSER_JS, type: JS },
  'playground/conversation.js': { body: CONVERSATION_JS, type: JS },
  'playground/credentials.js': { body: CREDENTIALS_JS, type: JS },
  'playground/dom.js': { body: DOM_JS, type: JS },
  'playground/main.js': { body: MAIN_JS, type: JS },
  'playground/messages.js': { body: MESSAGES_JS, type: JS },
  'playground/personas.js': { body: PERSONAS_JS, type: JS },
  'playground/picked.js': { body: PICKED_JS, type: JS },
  'playground/session-actions.js': { body: SESSION_ACTIONS_JS, type: JS },
  'playground/sessions.js': { body: SESSIONS_JS, type: JS },
  'playground/state.js': { body: STATE_JS, type: JS },
  'playground/turn-stream.js': { body: TURN_STREAM_JS, type: JS },
  'playground/versions.js': { body: VERSIONS_JS, type: JS },
};

/**
 * ES modules as one classic script: the widget is embedded with a plain <script src> on other sites
 * (existing embed codes have no type="module", and a module script would not get document.currentScript,
 * which is how the widget reads its data-* settings). Its sources are modules like the playground's, so
 * that tsc checks their imports and it shares ../sse.js; here their relative imports and `export`
 * keywords are dropped and the files are joined, dependencies first and the entry last, in one function
 * scope (nothing leaks into the page's globals). The entry's leading /*! comment stays at the top;
 * the other whole-line comments go (the JSDoc types are for tsc, not for every visitor's download).
 */
export function classicScript(dependencies: string[], entry: string): string {
  const banner = /^\/\*![\s\S]*?\*\/\n/.exec(entry)?.[0] ?? '';
  const strip = (source: string) =>
    source
      .replace(/^import\s[\s\S]*?\sfrom\s+'\.{1,2}\/[^']+';\n/gm, '')
      // Whole-line comments only (JSDoc blocks, // lines): the script's readers have the sources.
      .replace(/^[ \t]*\/\*\*(?:[^*]|\*(?!\/))*\*\/[ \t]*\n/gm, '')
      .replace(/^[ \t]*\/\/.*\n/gm, '')
      .replace(/^export (?=(async |const |class |function ))/gm, '');
  const body = [...dependencies, entry.slice(banner.length)].map(strip).join('\n');
  return `${banner}(() => {\n'use strict';\n${body}})();\n`;
}

/** GET /widget.js. */
export const WIDGET_SOURCE = classicScript(
  [
    SSE_JS,
    FILES_JS,
    WIDGET_STYLES_JS,
    WIDGET_VIEW_JS,
    WIDGET_CLIENT_JS,
    WIDGET_APP_JS,
    WIDGET_FILES_JS,
    WIDGET_CHAT_JS,
  ],
  WIDGET_MAIN_JS,
);

/** A short strong validator for a text (hashing a few KB per request costs microseconds). */
async function etagOf(prefix: string, body: string): Promise<string> {
  return `"${prefix}-${(await sha256Hex(body)).slice(0, 16)}"`;
}

/**
 * One of UI_FILES, revalidated on every use (no-cache + ETag): a deploy shows at once and an unchanged
 * file costs a 304. Undefined for a path that is not one of them.
 */
export async function serveUiFile(c: Context, path: string): Promise<Response | undefined> {
  const file = Object.hasOwn(UI_FILES, path) ? UI_FILES[path] : undefined;
  if (!file) return undefined;
  const headers = {
    'content-type': file.type,
    'cache-control': 'no-cache',
    etag: await etagOf('ui', file.body),
    'x-content-type-options': 'nosniff',
  };
  if (c.req.header('if-none-match') === headers.etag) return c.body(null, 304, headers);
  return c.body(file.body, 200, headers);
}
