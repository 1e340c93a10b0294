// @ts-check
/** The open session: its messages, the reply streaming into it, and leaving or clearing it. */
import { ApiError, query, showError, subscribe } from './api.js';
import { $, announce, button, h, select, textarea } from './dom.js';
import { loadRatings, messageItem } from './messages.js';
import { renderPicked } from './picked.js';
import { state } from './state.js';

/** @typedef {import('./state.js').Message} Message */

function scrollDown() {
  const l = $('messages');
  l.scrollTop = l.scrollHeight;
}

function renderSession(/** @type {import('./state.js').Session} */ s) {
  state.session = s;
  $('chat-title').textContent = s.title || 'Untitled session';
  $('chat-sub').textContent = `${s.persona.name} \u00b7 ${s.platform} \u00b7 ${s.status} \u00b7 ${s.id}`;
  $('chat-actions').hidden = false;
  $('archive').textContent = s.status === 'ARCHIVED' ? 'Reactivate' : 'Archive';
  $('composer').hidden = s.status === 'ARCHIVED';
  $('archived-note').hidden = s.status !== 'ARCHIVED';
  $('messages').replaceChildren(...s.messages.map((m) => messageItem(m)));
  for (const b of document.querySelectorAll('#sessions .pick')) {
    if (b instanceof HTMLElement) b.setAttribute('aria-current', String(b.dataset.id === s.id));
  }
  scrollDown();
  // The last reply's Regenerate and version controls (versions.js).
  document.dispatchEvent(new CustomEvent('conversation-rendered'));
}

/**
 * Opens a session (its history and ratings); a reply it is still generating is followed.
 * @param {string} id
 * @param {boolean} [keepFocus] leave the focus where it is (a re-read, not the visitor's choice)
 * @param {boolean} [keepError] keep the conversation's error on screen (a failed send)
 */
export async function openSession(id, keepFocus, keepError) {
  if (state.abort) {
    // Leaving does not stop the reply: it is stored, and shows when the session is opened again.
    state.abort.abort();
    endReply();
  }
  if (!keepError) showError('chat', null);
  try {
    const [s] = await Promise.all([query('chat.getSession', { id }), loadRatings(id)]);
    renderSession(s);
    if (!keepFocus) $('chat').focus();
    const last = s.messages[s.messages.length - 1];
    if (last && last.role === 'ASSISTANT' && last.status === 'STREAMING') follow(last);
  } catch (err) {
    showError('chat', err);
  }
}

/** Nothing of the previous credentials' organization stays on screen. */
export function clearOrganizationView() {
  if (state.abort) {
    state.abort.abort();
    endReply();
  }
  state.personas = [];
  state.sessions = [];
  state.cursor = null;
  $('personas').replaceChildren();
  $('sessions').replaceChildren();
  $('more-sessions').hidden = true;
  $('persona-form').hidden = true;
  select('s-persona').replaceChildren();
  select('f-persona').replaceChildren(h('option', { value: '' }, 'Any'));
  clearConversation();
}

export function clearConversation() {
  state.session = null;
  $('messages').replaceChildren();
  $('chat-title').textContent = 'Conversation';
  $('chat-sub').textContent = 'Open or start a session.';
  $('chat-actions').hidden = true;
  $('rename-form').hidden = true;
  $('composer').hidden = true;
  $('archived-note').hidden = true;
}

/** Streams one reply into a new message element; the element is replaced by the stored reply at the end. */
function startReply(/** @type {string} */ replyId) {
  const li = messageItem({
    id: replyId,
    role: 'ASSISTANT',
    content: '',
    status: 'STREAMING',
    createdAt: new Date().toISOString(),
  });
  li.setAttribute('aria-busy', 'true');
  li.dataset.streaming = 'true';
  li.querySelector('.content')?.setAttribute('aria-live', 'polite');
  $('messages').append(li);
  const reply = { id: replyId, text: '', li };
  state.reply = reply;
  button('stop').disabled = false;
  announce('Reply streaming\u2026');
  return reply;
}

/** @param {HTMLElement} li @param {string} text */
function setContent(li, text) {
  const content = li.querySelector('.content');
  if (content) content.textContent = text;
}

/**
 * One event of a turn: the stored user message, a piece of the reply, or the stored reply.
 * @param {any} e
 * @param {import('./state.js').Attachment[]} [files] the files just sent, shown until stored
 */
export function onTurnEvent(e, files) {
  if (e.type === 'message') {
    $('messages').append(messageItem(e.message, files));
    textarea('message').value = '';
    state.files = [];
    renderPicked();
    if (e.replyId) startReply(e.replyId);
  } else if (e.type === 'delta') {
    const r = state.reply || startReply(e.replyId);
    if (e.offset !== r.text.length) r.text = r.text.slice(0, e.offset);
    r.text += e.text;
    setContent(r.li, r.text);
    scrollDown();
  } else if (e.type === 'reply') {
    const failure = replyFailure(e.message);
    if (failure) showError('chat', failure);
    const li = messageItem(e.message);
    if (state.reply) state.reply.li.replaceWith(li);
    else $('messages').append(li);
    state.reply = null;
    button('stop').disabled = true;
    announce(`Reply ${e.message.status.toLowerCase()}: ${e.message.content}`);
    scrollDown();
  }
}

/** A reply the model failed to finish (502 provider failure, 504 timeout), as an error to show. */
export function replyFailure(/** @type {Message} */ m) {
  const err = m.status === 'INCOMPLETE' && m.metadata?.error;
  if (!err) return null;
  const status = err.code === 'MODEL_TIMEOUT' ? 504 : 502;
  return new ApiError(status, err.code || 'MODEL_ERROR', err.message || 'The reply could not be generated.');
}

export function endReply() {
  if (state.reply) {
    state.reply.li.removeAttribute('aria-busy');
    delete state.reply.li.dataset.streaming;
  }
  state.reply = null;
  state.abort = null;
  button('stop').disabled = true;
  button('send').disabled = false;
}

/** Follows a reply still being generated (opened mid-reply), from the text already stored. */
async function follow(/** @type {Message} */ m) {
  const ctl = new AbortController();
  state.abort = ctl;
  const reply = startReply(m.id);
  $('messages').querySelector(`[data-id="${m.id}"]:not([data-streaming])`)?.remove();
  reply.text = m.content;
  setContent(reply.li, m.content);
  try {
    await subscribe('GET', 'chat.resumeReply', { messageId: m.id, offset: m.content.length }, onTurnEvent, ctl.signal);
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) showError('chat', err);
  } finally {
    if (state.abort === ctl) endReply();
  }
}
