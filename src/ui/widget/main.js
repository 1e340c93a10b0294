/*! Persona chat widget v1 — served as GET /widget.js. Embed:
 *  <script src="https://API/widget.js" data-key="pub_…" data-persona="persona_…" async></script>
 * Optional: data-color, data-text-color, data-greeting, data-title, data-position ("left" or "right"),
 * data-user-id + data-user-hash (identity verified by the organization's backend).
 * A file button appears only when the key allows visitor attachments (its /check answer says which).
 * Plain ES2020, no dependencies, loads nothing from other hosts; everything lives in a shadow root.
 */
// @ts-check
// The entry of the widget's sources: GET /widget.js serves them as one classic script (see
// src/routes/ui-assets.ts), this file last.
import { createApp } from './app.js';
import { send, start } from './chat.js';
import { addFile, showFiles } from './files.js';

/** @param {import('./app.js').WidgetApp} app @param {boolean} isOpen */
function openPanel(app, isOpen) {
  const { view } = app;
  view.panel.hidden = !isOpen;
  view.launch.setAttribute('aria-expanded', String(isOpen));
  view.launch.setAttribute('aria-label', isOpen ? 'Close chat' : 'Open chat');
  if (!isOpen) view.launch.focus();
  else if (!app.started) start(app);
  else view.input.focus();
}

/** @param {import('./app.js').WidgetApp} app */
function listen(app) {
  const { view } = app;
  view.launch.addEventListener('click', () => openPanel(app, view.panel.hidden !== false));
  view.close.addEventListener('click', () => openPanel(app, false));
  view.panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') openPanel(app, false);
  });
  view.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      view.form.requestSubmit();
    }
  });
  view.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const content = view.input.value.trim();
    if ((!content && !app.files.length) || app.busy || !app.visit) return;
    view.input.value = '';
    const attached = app.files;
    app.files = [];
    showFiles(app);
    send(app, content, attached);
  });
  view.attachButton.addEventListener('click', () => view.fileInput.click());
  view.fileInput.addEventListener('change', () => {
    const file = view.fileInput.files?.[0];
    if (file) addFile(app, file);
    view.fileInput.value = '';
  });
  view.stopButton.addEventListener('click', () => {
    if (!app.replyId) return;
    app.client
      .call('chat.stopReply', { messageId: app.replyId }, 'POST')
      .catch((error) => view.showError(error.message));
  });
}

function mountWidget() {
  const script = document.currentScript;
  if (!(script instanceof HTMLScriptElement) || !script.src) return;
  const app = createApp(script);
  listen(app);
  const mount = () => document.body.appendChild(app.view.host);
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
}

mountWidget();
