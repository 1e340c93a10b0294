// @ts-check
/** Sessions: start one, filter and page through the list, and search messages across sessions. */
import { mutate, query, showError } from './api.js';
import { openSession } from './conversation.js';
import { $, button, form, h, input, select, when } from './dom.js';
import { state } from './state.js';

/** The filters of the form as chat.listSessions input. */
function sessionFilter() {
  /** @type {Record<string, string | number>} */
  const f = { limit: 50 };
  for (const [k, id] of [
    ['personaId', 'f-persona'],
    ['status', 'f-status'],
    ['platform', 'f-platform'],
  ]) {
    const value = select(/** @type {string} */ (id)).value;
    if (value) f[/** @type {string} */ (k)] = value;
  }
  return f;
}

function sessionItem(/** @type {import('./state.js').SessionSummary} */ s) {
  const current = state.session?.id === s.id;
  const facts = [
    s.persona.name,
    s.platform,
    s.status,
    `${s._count.messages} msgs`,
    when(s.lastActivityAt || s.updatedAt),
  ];
  return h(
    'li',
    {},
    h(
      'button',
      {
        type: 'button',
        class: 'pick',
        'aria-current': current ? 'true' : false,
        'data-id': s.id,
        onclick: () => openSession(s.id),
      },
      h('strong', {}, s.title || 'Untitled session'),
      h('span', {}, facts.join(' \u00b7 ')),
    ),
  );
}

/** Bumped by every load: an answer that arrives after a later load was started is stale. */
let latestLoad = 0;

/** The first page of sessions matching the filters, or (more) the next page added to the list. */
export async function loadSessions(more = false) {
  const load = ++latestLoad;
  const filter = sessionFilter();
  if (more && state.cursor) filter.cursor = state.cursor;
  /** @type {import('./state.js').SessionSummary[]} */
  const page = await query('chat.listSessions', filter);
  // Filters changed twice quickly (ARCHIVED, then ACTIVE): the answers can arrive in either order,
  // and only the last load's may be shown.
  if (load !== latestLoad) return;
  state.sessions = more ? state.sessions.concat(page) : page;
  state.cursor = page.length === filter.limit ? (page[page.length - 1]?.id ?? null) : null;
  const list = $('sessions');
  list.replaceChildren(...state.sessions.map(sessionItem));
  if (!state.sessions.length) list.append(h('li', { class: 'muted' }, 'No sessions match.'));
  $('more-sessions').hidden = !state.cursor;
}

export const refreshSessions = () =>
  loadSessions().then(
    () => showError('sessions', null),
    (err) => showError('sessions', err),
  );

/**
 * A search hit's snippet with its matches marked.
 * @param {{ snippet: string, highlights: { start: number, end: number }[] }} hit
 */
function snippetNode(hit) {
  /** @type {(string | HTMLElement)[]} */
  const out = [];
  let at = 0;
  for (const r of hit.highlights) {
    out.push(hit.snippet.slice(at, r.start), h('mark', {}, hit.snippet.slice(r.start, r.end)));
    at = r.end;
  }
  out.push(hit.snippet.slice(at));
  return h('p', {}, out);
}

async function searchMessages(/** @type {string} */ q) {
  const list = $('search-results');
  /** @type {{ items: any[] }} */
  const result = await query('search.messages', { query: q, limit: 20 });
  list.hidden = false;
  const hits = result.items.map((hit) =>
    h(
      'li',
      {},
      h(
        'p',
        { class: 'who' },
        `${hit.session.title || 'Untitled session'} \u00b7 ${hit.role} \u00b7 ${when(hit.createdAt)}`,
      ),
      h('button', { type: 'button', class: 'pick', onclick: () => openSession(hit.chatSessionId) }, snippetNode(hit)),
    ),
  );
  list.replaceChildren(...(hits.length ? hits : [h('li', {}, 'No messages match.')]));
}

async function startSession() {
  try {
    /** @type {Record<string, string>} */
    const data = { personaId: select('s-persona').value, platform: select('s-platform').value };
    const title = input('s-title').value.trim();
    if (title) data.title = title;
    const s = await mutate('chat.createSession', data);
    input('s-title').value = '';
    showError('sessions', null);
    await loadSessions();
    await openSession(s.id);
  } catch (err) {
    showError('sessions', err);
  }
}

export function initSessions() {
  form('filters').addEventListener('change', refreshSessions);
  form('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    refreshSessions();
  });
  button('refresh-sessions').addEventListener('click', refreshSessions);
  button('more-sessions').addEventListener('click', () =>
    loadSessions(true).catch((err) => showError('sessions', err)),
  );
  form('new-session').addEventListener('submit', (e) => {
    e.preventDefault();
    startSession();
  });
  form('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    showError('sessions', null);
    searchMessages(input('search-q').value.trim()).catch((err) => showError('sessions', err));
  });
}
