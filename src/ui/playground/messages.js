// @ts-check
/** How a message is drawn: who and when, its text, attachments, the reply's metadata and rating. */
import { mutate, query, showError } from './api.js';
import { fmtBytes, h, when } from './dom.js';
import { state } from './state.js';

/** @typedef {import('./state.js').Message} Message */
/** @typedef {import('./state.js').Attachment} Attachment */

/** @param {Attachment[] | undefined} list */
function attachmentChips(list) {
  if (!list?.length) return null;
  const chip = (/** @type {Attachment} */ a) => {
    const pages = a.pageCount ? ` \u00b7 ${a.pageCount}${a.pageCount === 1 ? ' page' : ' pages'}` : '';
    const flags = (a.hasText === false ? ' \u00b7 no text' : '') + (a.truncated ? ' \u00b7 truncated' : '');
    return h('li', {}, `${a.filename}${pages} \u00b7 ${fmtBytes(a.byteSize || a.size || 0)}${flags}`);
  };
  return h('ul', { class: 'files', 'aria-label': 'Attachments' }, list.map(chip));
}

/** A reply's metadata in one line (model, tokens, timing, context), the whole of it on opening. */
function metaSummary(/** @type {Message} */ m) {
  const md = m.metadata || {};
  if (!md.model) return null;
  const u = md.usage || {};
  const c = md.context || {};
  const parts = [md.model];
  if (u.totalTokens !== null && u.totalTokens !== undefined)
    parts.push(`${u.totalTokens} tokens (${u.inputTokens} in, ${u.outputTokens} out)`);
  if (md.latencyMs !== undefined) {
    const first = md.timeToFirstTokenMs;
    parts.push(`${md.latencyMs} ms${first !== null && first !== undefined ? `, first token ${first} ms` : ''}`);
  }
  if (c.messagesIncluded !== undefined)
    parts.push(
      `context: ${c.messagesIncluded} messages included, ${c.messagesOmitted} omitted, ~${c.estimatedTokens}/${c.tokenBudget} tokens`,
    );
  /** @type {string[]} */
  const used = (c.attachmentsIncluded || []).map(
    (/** @type {any} */ a) => a.filename + (a.partial ? ' (partial)' : ''),
  );
  /** @type {string[]} */
  const omitted = (c.attachmentsOmitted || []).map((/** @type {any} */ a) => a.filename);
  if (used.length) parts.push(`documents used: ${used.join(', ')}`);
  if (omitted.length) parts.push(`documents omitted: ${omitted.join(', ')}`);
  if (md.error) parts.push(`error: ${md.error.message}`);
  return h(
    'details',
    { class: 'meta' },
    h('summary', {}, parts.join(' \u00b7 ')),
    h('pre', {}, JSON.stringify(md, null, 2)),
  );
}

/**
 * One message of the conversation; `extra` lists the files of a message just sent, until the stored
 * message (with what the server extracted) replaces it.
 * @param {Message} m
 * @param {Attachment[]} [extra]
 */
export function messageItem(m, extra) {
  const assistant = state.session ? state.session.persona.name : 'Assistant';
  const who = m.role === 'USER' ? 'You' : m.role === 'ASSISTANT' ? assistant : 'System';
  const status = m.status && m.status !== 'COMPLETE' ? h('span', { class: 'badge' }, m.status) : null;
  return h(
    'li',
    { class: `msg ${m.role.toLowerCase()}`, 'data-id': m.id, 'data-status': m.status || '' },
    h('p', { class: 'who' }, `${who} \u00b7 ${when(m.createdAt)} `, status),
    h('div', { class: 'content' }, m.content),
    attachmentChips(m.attachments?.length ? m.attachments : extra),
    metaSummary(m),
    rateButtons(m),
  );
}

/**
 * Thumbs on finished replies: feedback.rate, or feedback.remove when the pressed one is pressed again.
 * @param {Message} m
 * @returns {HTMLElement | null}
 */
function rateButtons(m) {
  if (m.role !== 'ASSISTANT' || !m.status || m.status === 'STREAMING') return null;
  const current = state.ratings.get(m.id);
  /** @param {string} rating @param {string} label */
  const rate = (rating, label) => {
    /** @param {MouseEvent} e */
    const onclick = async (e) => {
      const row = /** @type {HTMLElement} */ (e.target).closest('.rate');
      try {
        if (state.ratings.get(m.id) === rating) {
          await mutate('feedback.remove', { messageId: m.id });
          state.ratings.delete(m.id);
        } else {
          await mutate('feedback.rate', { messageId: m.id, rating });
          state.ratings.set(m.id, rating);
        }
        const next = rateButtons(m);
        if (next) row?.replaceWith(next);
      } catch (err) {
        showError('chat', err);
      }
    };
    return h('button', { type: 'button', 'aria-pressed': String(current === rating), onclick }, label);
  };
  return h(
    'div',
    { class: 'rate', role: 'group', 'aria-label': 'Rate this reply' },
    rate('UP', '\u{1F44D} Helpful'),
    rate('DOWN', '\u{1F44E} Not helpful'),
  );
}

/** The session's ratings (every page), for the thumbs of its replies. */
export async function loadRatings(/** @type {string} */ sessionId) {
  state.ratings = new Map();
  /** @type {string | undefined} */
  let cursor;
  for (let i = 0; i < 20; i++) {
    const input = cursor ? { chatSessionId: sessionId, limit: 200, cursor } : { chatSessionId: sessionId, limit: 200 };
    /** @type {{ messageId: string, rating: string }[]} */
    const page = await query('feedback.listForSession', input);
    for (const f of page) state.ratings.set(f.messageId, f.rating);
    if (page.length < 200) break;
    cursor = page[page.length - 1]?.messageId;
  }
}
