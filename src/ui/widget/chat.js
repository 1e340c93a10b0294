// @ts-check
/** The widget's conversation: starting or resuming the visitor's session, and streaming each turn. */
import { loadVisit, saveVisit } from './app.js';
import { WidgetError } from './client.js';
import { showFiles } from './files.js';

/** @typedef {import('./app.js').WidgetApp} WidgetApp */
/** @typedef {{ id: string, el: HTMLElement, text: string }} Streaming */

/**
 * Shows the stored conversation; returns the reply still being generated (a reload mid-reply), if any.
 * @param {WidgetApp} app
 * @param {any} session
 * @returns {Streaming | null}
 */
function render(app, session) {
  const { cfg, view } = app;
  if (!cfg.title && session.persona?.name) view.title.textContent = session.persona.name;
  view.log.textContent = '';
  if (cfg.greeting) view.bubble('note', cfg.greeting);
  /** @type {Streaming | null} */
  let streaming = null;
  for (const m of session.messages || []) {
    if (m.role === 'SYSTEM') continue;
    const names = (m.attachments || []).map((/** @type {any} */ a) => `\nAttached: ${a.filename}`).join('');
    const el = view.bubble(m.role, m.content + names);
    streaming = m.role === 'ASSISTANT' && m.status === 'STREAMING' ? { id: m.id, el, text: m.content } : null;
  }
  return streaming;
}

/** The kept session, if it still opens; a refused token (401, 403, 404) means starting a new one. */
async function resume(/** @type {WidgetApp} */ app) {
  app.visit = loadVisit(app);
  if (!app.visit) return;
  try {
    const streaming = render(app, await app.client.call('chat.getSession', { id: app.visit.sessionId }, 'GET'));
    if (!streaming) return;
    streaming.el.setAttribute('aria-busy', 'true');
    app.replyId = streaming.id;
    const args = { messageId: streaming.id, offset: streaming.text.length };
    busyWhile(app, () => streamTurn(app, 'chat.resumeReply', args, streaming));
  } catch (error) {
    if (!(error instanceof WidgetError) || ![401, 403, 404].includes(error.status ?? 0)) throw error;
    app.visit = null;
  }
}

/** Opens the chat: checks the key for this page, then resumes the visitor's session or starts one. */
export async function start(/** @type {WidgetApp} */ app) {
  const { cfg, view, client } = app;
  app.started = true;
  view.bubble('note', 'Connecting…');
  try {
    const check = await client.check(app.persona);
    if (!check.allowed) throw new Error(check.message);
    app.policy = check.attachments || null;
    view.attachButton.hidden = !app.policy;
    if (app.policy) view.fileInput.accept = app.policy.types.join(',');
    await resume(app);
    if (!app.visit) {
      const startInput = { personaId: app.persona };
      if (cfg.userId && cfg.userHash) Object.assign(startInput, { userId: cfg.userId, userHash: cfg.userHash });
      const created = await client.call('widget.startSession', startInput, 'POST');
      app.visit = {
        sessionId: created.session.id,
        token: created.visitorToken,
        expiresAt: created.visitorTokenExpiresAt,
      };
      saveVisit(app);
      render(app, await client.call('chat.getSession', { id: app.visit.sessionId }, 'GET'));
    }
    view.showError('');
    app.setReady(true);
    view.input.focus();
  } catch (error) {
    app.started = false;
    view.log.textContent = '';
    view.bubble('note', 'Chat unavailable.');
    const offline = error instanceof TypeError;
    view.showError(
      offline ? 'The chat service cannot be reached from this page.' : String(/** @type {Error} */ (error).message),
    );
  }
}

/**
 * Reads one turn into the log: the user message, text deltas, then the stored reply.
 * @param {WidgetApp} app
 * @param {string} path
 * @param {unknown} args
 * @param {Streaming} [resumed] a reply already on screen, to continue
 */
async function streamTurn(app, path, args, resumed) {
  const { view } = app;
  let reply = resumed ? resumed.el : null;
  let text = resumed ? resumed.text : '';
  for await (const payload of app.client.turn(path, args)) {
    if (payload.type === 'message' && payload.replyId) {
      app.replyId = payload.replyId;
      reply = view.bubble('ASSISTANT', '');
      reply.setAttribute('aria-busy', 'true');
    } else if (payload.type === 'delta') {
      app.replyId = payload.replyId;
      if (!reply) reply = view.bubble('ASSISTANT', '');
      text += payload.text;
      reply.textContent = text;
      view.log.scrollTop = view.log.scrollHeight;
    } else if (payload.type === 'reply') {
      if (!reply) reply = view.bubble('ASSISTANT', '');
      reply.textContent = payload.message.content;
      reply.removeAttribute('aria-busy');
      if (payload.message.status === 'STOPPED') view.bubble('note', 'Reply stopped.');
      return;
    }
  }
}

/** Runs a streamed call with the panel in its busy state (Stop shown, Send disabled). */
async function busyWhile(/** @type {WidgetApp} */ app, /** @type {() => Promise<void>} */ task) {
  const { view } = app;
  app.busy = true;
  app.setReady(Boolean(app.visit));
  view.stopButton.hidden = false;
  view.showError('');
  try {
    await task();
  } catch (error) {
    view.showError(
      error instanceof TypeError ? 'Connection lost; please try again.' : String(/** @type {Error} */ (error).message),
    );
  } finally {
    app.busy = false;
    app.replyId = null;
    view.stopButton.hidden = true;
    app.setReady(true);
    view.input.focus();
  }
}

/**
 * Sends the message with the chosen files; a refused send (413, 415…) gives both back to fix.
 * @param {WidgetApp} app
 * @param {string} text
 * @param {import('./app.js').PickedFile[]} attached
 */
export function send(app, text, attached) {
  const { view, visit } = app;
  if (!visit) return;
  const content = text || attached.map((f) => f.filename).join(', ');
  const el = view.bubble('USER', content + attached.map((f) => `\nAttached: ${f.filename}`).join(''));
  /** @type {Record<string, unknown>} */
  const args = { chatSessionId: visit.sessionId, content };
  if (attached.length) args.attachments = attached;
  return busyWhile(app, async () => {
    try {
      await streamTurn(app, 'chat.streamMessage', args);
    } catch (error) {
      const status = error instanceof WidgetError ? (error.status ?? 0) : 0;
      if (status >= 400 && status < 500) {
        el.remove();
        view.input.value = text;
        app.files = attached;
        showFiles(app);
      }
      throw error;
    }
  });
}
