// @ts-check
/**
 * Editing a user message and its branches: "Edit" on each user message (an inline text box; saving
 * streams the reply to the edit with chat.streamEditMessage, on a new branch), and at an edited
 * message a switcher ‹ 1/2 › between the branches (chat.listBranches, chat.switchBranch).
 */
import { mutate, query, showError } from './api.js';
import { onTurnEvent, openSession } from './conversation.js';
import { $, announce, h, textarea } from './dom.js';
import { state } from './state.js';
import { streamInPlace } from './turn-stream.js';

/** @typedef {{ branchId: string, content: string, messageCount: number, active: boolean }} Branch */
/** @typedef {{ messageId: string, branches: Branch[] }} Fork */

/**
 * Streams the reply to an edit of message `messageId`: the edit replaces the edited message and
 * everything after it on screen; the session is re-read at the end.
 * @param {string} messageId
 * @param {string} content
 */
async function saveEdit(messageId, content) {
  /** @param {any} ev */
  const replace = (ev) => {
    const edited = $('messages').querySelector(`[data-id="${messageId}"]`);
    while (edited?.nextSibling) edited.nextSibling.remove();
    edited?.remove();
    // The composer's draft is not the edit: it stays.
    const draft = textarea('message').value;
    onTurnEvent(ev);
    textarea('message').value = draft;
  };
  await streamInPlace('chat.streamEditMessage', { messageId, content }, replace, 'The message could not be edited.');
}

/**
 * Turns a user message's text into a text box with Save and Cancel.
 * @param {HTMLElement} li
 * @param {string} messageId
 * @param {string} content
 */
function startEdit(li, messageId, content) {
  const shown = li.querySelector('.content');
  if (!(shown instanceof HTMLElement) || li.querySelector('.edit-form')) return;
  const box = h('textarea', { class: 'edit-text', 'aria-label': 'Edited message', rows: 3 });
  if (box instanceof HTMLTextAreaElement) box.value = content;
  const cancel = () => {
    form.remove();
    shown.hidden = false;
  };
  const form = h(
    'form',
    {
      class: 'edit-form',
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        const text = box instanceof HTMLTextAreaElement ? box.value.trim() : '';
        if (!text) return;
        cancel();
        saveEdit(messageId, text);
      },
    },
    box,
    h('button', { type: 'submit' }, 'Save'),
    h('button', { type: 'button', onclick: cancel }, 'Cancel'),
  );
  shown.hidden = true;
  shown.after(form);
  box.focus();
}

/**
 * Makes another branch the active one, then re-reads the session.
 * @param {string} sessionId
 * @param {string} branchId
 */
async function switchTo(sessionId, branchId) {
  try {
    await mutate('chat.switchBranch', { chatSessionId: sessionId, branchId });
    announce('Showing another branch of the conversation.');
    await openSession(sessionId, true);
  } catch (err) {
    showError('chat', err);
  }
}

/**
 * ‹ i/n › between the branches of a fork.
 * @param {string} sessionId
 * @param {Fork} fork
 */
function switcher(sessionId, fork) {
  const at = fork.branches.findIndex((b) => b.active);
  /** @param {number} to @param {string} label @param {string} name */
  const step = (to, label, name) => {
    const target = fork.branches[to];
    return h(
      'button',
      {
        type: 'button',
        'aria-label': name,
        disabled: !target,
        onclick: () => target && switchTo(sessionId, target.branchId),
      },
      label,
    );
  };
  return h(
    'span',
    { class: 'switch', role: 'group', 'aria-label': 'Branches' },
    step(at - 1, '\u2039', 'Previous branch'),
    h('span', { class: 'count' }, `${at + 1}/${fork.branches.length}`),
    step(at + 1, '\u203a', 'Next branch'),
  );
}

/** Adds Edit (an active session) and the branch switchers to the open session's user messages. */
async function decorateUserMessages() {
  const s = state.session;
  if (!s) return;
  /** @type {{ forks: Fork[] }} */
  let listed;
  try {
    listed = await query('chat.listBranches', { chatSessionId: s.id });
  } catch (err) {
    showError('chat', err);
    return;
  }
  if (state.session !== s) return;
  for (const m of s.messages) {
    if (m.role !== 'USER') continue;
    const li = $('messages').querySelector(`[data-id="${m.id}"]`);
    if (!(li instanceof HTMLElement) || li.querySelector('.branches')) continue;
    const fork = listed.forks.find((f) => f.branches.some((b) => b.active && b.branchId === m.id));
    const edit =
      s.status === 'ACTIVE'
        ? h('button', { type: 'button', class: 'edit', onclick: () => startEdit(li, m.id, m.content) }, 'Edit')
        : null;
    li.append(h('div', { class: 'versions branches' }, fork ? switcher(s.id, fork) : null, edit));
  }
}

export function initBranches() {
  document.addEventListener('conversation-rendered', () => {
    decorateUserMessages();
  });
}
