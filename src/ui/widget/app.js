// @ts-check
/** What one widget on a page knows: its settings, elements, client and the state of the conversation. */
import { createClient } from './client.js';
import { createView } from './view.js';

/** @typedef {{ maxCount: number, maxBytes: number, types: string[] }} FilePolicy */
/** @typedef {{ filename: string, mimeType: string, data: string }} PickedFile */

/** @param {HTMLScriptElement} script the widget's own script tag */
export function createApp(script) {
  const cfg = script.dataset;
  const key = cfg.key || '';
  /** @type {() => import('./client.js').Visit | null} */
  let currentVisit = () => null;
  const app = {
    cfg,
    persona: cfg.persona || '',
    storageKey: `persona-widget:${key}:${cfg.persona || ''}`,
    view: createView(cfg),
    /** @type {import('./client.js').Visit | null} the session and visitor token */
    visit: null,
    started: false,
    busy: false,
    /** @type {string | null} the reply being generated, for Stop */
    replyId: null,
    /** @type {FilePolicy | null} set when the key accepts visitor files */
    policy: null,
    /** @type {PickedFile[]} waiting to be sent */
    files: [],
    client: createClient(`${new URL(script.src).origin}/widget/v1/${encodeURIComponent(key)}`, () => currentVisit()),
    /** Enables the controls that make sense now. */
    setReady(/** @type {boolean} */ ready) {
      const v = app.view;
      v.input.disabled = !ready;
      v.sendButton.disabled = !ready || app.busy;
      v.attachButton.disabled = !ready || app.busy || app.files.length >= (app.policy?.maxCount || 0);
    },
  };
  currentVisit = () => app.visit;
  return app;
}

/** @typedef {ReturnType<typeof createApp>} WidgetApp */

/** Keeps the visit (session id and token) for the next page load; private mode may refuse. */
export function saveVisit(/** @type {WidgetApp} */ app) {
  try {
    if (app.visit) localStorage.setItem(app.storageKey, JSON.stringify(app.visit));
    else localStorage.removeItem(app.storageKey);
  } catch {
    // storage blocked (private mode): the conversation lasts until the page closes
  }
}

/** The kept visit, unless its token expires within a minute. */
export function loadVisit(/** @type {WidgetApp} */ app) {
  try {
    const saved = JSON.parse(localStorage.getItem(app.storageKey) || 'null');
    return saved && Date.parse(saved.expiresAt) > Date.now() + 60_000 ? saved : null;
  } catch {
    return null;
  }
}
