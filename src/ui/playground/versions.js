// @ts-check
/**
 * The last reply's tools: "Regenerate" (chat.streamRegenerate, streamed like a send) and, when the
 * reply has versions, a switcher ‹ 1/2 › (chat.listReplyVersions, chat.selectReplyVersion). Only the
 * last reply gets them: the API regenerates the last user message's reply only.
 */
import { mutate, query, showError } from './api.js';
import { onTurnEvent, openSession } from './conversation.js';
import { $, announce, h } from './dom.js';
import { state } from './state.js';
import { streamInPlace } from './turn-stream.js';

/** @typedef {{ id: string, status: string, content: string, createdAt: string, inUse: boolean }} Version */

/**
 * Streams a new version of the reply `replyId` in its place; the session is re-read at the end.
 * @param {string} replyId
 */
async function regenerate(replyId) {
  /** @param {any} ev */
  const replace = (ev) => {
    // The user message is already on screen: only the reply is replaced.
    $('messages').querySelector(`[data-id="${replyId}"]`)?.remove();
    onTurnEvent({ type: 'delta', replyId: ev.replyId, offset: 0, text: '' });
  };
  await streamInPlace('chat.streamRegenerate', { messageId: replyId }, replace, 'The reply could not be regenerated.');
}

/**
 * Puts another version in use, then re-reads the session (its history now holds that version).
 * @param {string} sessionId
 * @param {Version} version
 */
async function choose(sessionId, version) {
  try {
    await mutate('chat.selectReplyVersion', { replyId: version.id });
    announce('Showing another version of the reply.');
    await openSession(sessionId, true);
  } catch (err) {
    showError('chat', err);
  }
}

/**
 * ‹ i/n › for a reply with versions; null for a reply with one.
 * @param {string} sessionId
 * @param {Version[]} versions
 */
function switcher(sessionId, versions) {
  if (versions.length < 2) return null;
  const at = versions.findIndex((v) => v.inUse);
  /** @param {number} to @param {string} label @param {string} name */
  const step = (to, label, name) => {
    const target = versions[to];
    return h(
      'button',
      { type: 'button', 'aria-label': name, disabled: !target, onclick: () => target && choose(sessionId, target) },
      label,
    );
  };
  return h(
    'span',
    { class: 'switch', role: 'group', 'aria-label': 'Reply versions' },
    step(at - 1, '\u2039', 'Previous version'),
    h('span', { class: 'count' }, `${at + 1}/${versions.length}`),
    step(at + 1, '\u203a', 'Next version'),
  );
}

/** Adds the tools to the open session's last reply, when it is a finished reply to a user message. */
async function decorateLastReply() {
  const s = state.session;
  const last = s?.messages[s.messages.length - 1];
  if (!s || !last || last.role !== 'ASSISTANT' || !last.replyToId || last.status === 'STREAMING') return;
  /** @type {{ versions: Version[] }} */
  let listed;
  try {
    listed = await query('chat.listReplyVersions', { messageId: last.id });
  } catch (err) {
    showError('chat', err);
    return;
  }
  const li = $('messages').querySelector(`[data-id="${last.id}"]:not([data-streaming])`);
  if (!li || state.session !== s || li.querySelector('.versions')) return;
  const again =
    s.status === 'ACTIVE'
      ? h('button', { type: 'button', class: 'regenerate', onclick: () => regenerate(last.id) }, 'Regenerate')
      : null;
  li.append(h('div', { class: 'versions' }, switcher(s.id, listed.versions), again));
}

export function initVersions() {
  document.addEventListener('conversation-rendered', () => {
    decorateLastReply();
  });
}
