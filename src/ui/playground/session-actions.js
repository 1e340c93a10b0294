// @ts-check
/** The open session's buttons: rename, archive or reactivate, reload, delete, export. */
import { mutate, query, showError } from './api.js';
import { clearConversation, openSession } from './conversation.js';
import { $, announce, button, form, h, input } from './dom.js';
import { refreshSessions } from './sessions.js';
import { state } from './state.js';

/** The open session; these buttons show only while one is open. */
function current() {
  if (!state.session) throw new Error('No session is open.');
  return state.session;
}

/** Every page of export.session / export.markdown, saved as one file. */
async function exportSession(/** @type {'json' | 'markdown'} */ kind) {
  const s = current();
  /** @type {any[]} */
  const pages = [];
  let cursor = null;
  for (let i = 0; i < 1000; i++) {
    const input = cursor ? { chatSessionId: s.id, cursor } : { chatSessionId: s.id };
    const page = await query(kind === 'json' ? 'export.session' : 'export.markdown', input);
    pages.push(page);
    if (page.page.complete) break;
    cursor = page.page.nextCursor;
  }
  const text =
    kind === 'json'
      ? JSON.stringify({ ...pages[0], messages: pages.flatMap((p) => p.messages), page: undefined }, null, 2)
      : pages.map((p) => p.markdown).join('\n');
  const blob = new Blob([text], { type: kind === 'json' ? 'application/json' : 'text/markdown' });
  const a = h('a', { href: URL.createObjectURL(blob), download: s.id + (kind === 'json' ? '.json' : '.md') });
  document.body.append(a);
  a.click();
  a.remove();
  announce(`Exported ${s.id}`);
}

/** chat.updateSession, then the session and the list re-read; false (with the error shown) if refused. */
async function updateSession(/** @type {Record<string, unknown>} */ changes) {
  try {
    const id = current().id;
    await mutate('chat.updateSession', { id, ...changes });
    await openSession(id, true);
    await refreshSessions();
    return true;
  } catch (err) {
    showError('chat', err);
    return false;
  }
}

function initRename() {
  button('rename').addEventListener('click', () => {
    $('rename-form').hidden = false;
    input('rename-input').value = current().title || '';
    input('rename-input').focus();
  });
  button('rename-cancel').addEventListener('click', () => {
    $('rename-form').hidden = true;
    button('rename').focus();
  });
  form('rename-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (await updateSession({ title: input('rename-input').value.trim() || null })) {
      $('rename-form').hidden = true;
      button('rename').focus();
    }
  });
}

export function initSessionActions() {
  initRename();
  button('archive').addEventListener('click', () =>
    updateSession({ status: current().status === 'ARCHIVED' ? 'ACTIVE' : 'ARCHIVED' }),
  );
  button('reload-session').addEventListener('click', () => openSession(current().id, true));
  button('delete-session').addEventListener('click', async () => {
    if (!confirm('Delete this session and all its messages?')) return;
    try {
      await mutate('chat.deleteSession', { id: current().id });
      clearConversation();
      await refreshSessions();
    } catch (err) {
      showError('chat', err);
    }
  });
  button('export-json').addEventListener('click', () => exportSession('json').catch((err) => showError('chat', err)));
  button('export-md').addEventListener('click', () => exportSession('markdown').catch((err) => showError('chat', err)));
}
