/**
 * The playground page (GET /): one HTML document with inline CSS and vanilla JS that drives the
 * public API exactly as any client does (tRPC over fetch with X-API-Key / X-Organization-ID, and
 * chat.streamMessage read as SSE through fetch + ReadableStream: EventSource cannot send headers).
 * No build step and nothing fetched from elsewhere.
 * CSS and script are plain text inside String.raw: they must not contain backticks or dollar-brace.
 */

const css = String.raw`
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--muted:#5b6470;--line:#d5dae1;--accent:#2453d6;--accent-fg:#fff;--user:#e8efff;--bot:#fff;--err-bg:#fdecec;--err:#a3141d;--ok:#17663a}
@media (prefers-color-scheme:dark){:root{--bg:#14171b;--card:#1d2127;--fg:#e8eaed;--muted:#a3abb6;--line:#39404a;--accent:#7aa2ff;--accent-fg:#0b1220;--user:#1f2a44;--bot:#1d2127;--err-bg:#3a1517;--err:#ffb4b8;--ok:#7fd69f}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:2}.skip:focus{left:.5rem}
header{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:baseline;padding:.75rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:1.15rem;margin:0}h2{font-size:1rem;margin:0 0 .5rem}h3{font-size:.95rem;margin:.75rem 0 .25rem}
.muted{color:var(--muted);font-size:.85rem;margin:0}
main{display:grid;grid-template-columns:minmax(280px,360px) minmax(0,1fr);gap:1rem;padding:1rem;max-width:1400px;margin:0 auto}
.side{display:flex;flex-direction:column;gap:1rem;min-width:0}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.85rem;min-width:0}
#chat{display:flex;flex-direction:column;min-height:70vh}
label{display:block;font-size:.85rem;font-weight:600;margin:.5rem 0 .15rem}
input,select,textarea,button{font:inherit;color:inherit}
input,select,textarea{width:100%;padding:.4rem .5rem;border:1px solid var(--line);border-radius:6px;background:var(--bg)}
textarea{resize:vertical}
button{cursor:pointer;border:1px solid var(--line);background:var(--bg);border-radius:6px;padding:.35rem .7rem;min-height:2.1rem}
button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-fg);font-weight:600}
button:disabled{opacity:.5;cursor:not-allowed}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:.6rem}
.grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(5.5rem,1fr));gap:.4rem}
.error{background:var(--err-bg);color:var(--err);border-radius:6px;padding:.45rem .6rem;margin:.5rem 0 0;font-size:.9rem;white-space:pre-wrap}
.note{color:var(--ok);font-size:.85rem;margin:.4rem 0 0}
ul.list{list-style:none;margin:.5rem 0 0;padding:0;display:flex;flex-direction:column;gap:.35rem;max-height:22rem;overflow:auto}
ul.list li{display:flex;gap:.4rem;align-items:stretch}
ul.list .pick{flex:1;text-align:left;min-width:0}
.pick[aria-current=true]{border-color:var(--accent);box-shadow:inset 3px 0 0 var(--accent)}
.pick strong,.pick span{display:block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.pick span{color:var(--muted);font-size:.8rem}
.badge{display:inline-block;font-size:.72rem;font-weight:700;padding:0 .35rem;border-radius:4px;border:1px solid var(--line);vertical-align:middle}
#chat-head{display:flex;flex-wrap:wrap;gap:.5rem;justify-content:space-between;align-items:flex-start}
#messages{list-style:none;margin:.75rem 0;padding:0;flex:1;display:flex;flex-direction:column;gap:.6rem;overflow:auto;max-height:65vh}
.msg{border:1px solid var(--line);border-radius:10px;padding:.5rem .7rem;background:var(--bot);max-width:min(46rem,100%)}
.msg.user{background:var(--user);align-self:flex-end}
.msg .who{font-size:.78rem;color:var(--muted);margin:0 0 .2rem}
.msg .content{white-space:pre-wrap;overflow-wrap:anywhere}
.msg[aria-busy=true] .content::after{content:"\258d";animation:blink 1s steps(2) infinite}
@keyframes blink{50%{opacity:0}}
.files{list-style:none;padding:0;margin:.35rem 0 0;display:flex;flex-wrap:wrap;gap:.3rem}
.files li{font-size:.8rem;border:1px solid var(--line);border-radius:999px;padding:.05rem .55rem;display:flex;gap:.3rem;align-items:center}
.files button{min-height:0;padding:0 .3rem;border:0;background:none}
.meta{font-size:.78rem;color:var(--muted);margin:.35rem 0 0}
.rate{display:flex;gap:.3rem;margin:.3rem 0 0}.rate button{font-size:.75rem;padding:.1rem .45rem}.rate button[aria-pressed=true]{font-weight:700;border-color:currentColor}
#search-results li{padding:.3rem 0;border-bottom:1px solid var(--line)}#search-results mark{font-weight:700}
#search-results .who{font-size:.75rem;color:var(--muted);margin:0}
.meta pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.75rem;max-height:16rem;overflow:auto}
#composer textarea{min-height:4.5rem}
#log{font:12px/1.4 ui-monospace,monospace;margin:.5rem 0 0;padding-left:1.2rem;max-height:12rem;overflow:auto}
summary h2{display:inline}.end{align-self:end}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
[hidden]{display:none!important}
@media (min-width:761px){body{height:100vh;display:flex;flex-direction:column}main{flex:1;min-height:0;width:100%;grid-template-rows:minmax(0,1fr)}.side{overflow:auto;padding-bottom:.2rem}#chat{min-height:0}#messages{max-height:none;min-height:0}}
@media (max-width:760px){main{grid-template-columns:minmax(0,1fr);padding:.5rem;gap:.6rem}#chat{min-height:0}#messages{max-height:none}}
`;

const html = `<header>
<h1>Conversations API playground</h1>
<p id="conn" class="muted" role="status">Not connected</p>
</header>
<main>
<div class="side">
<section aria-labelledby="h-creds">
<h2 id="h-creds">Credentials</h2>
<form id="creds-form">
<label for="api-key">API key (X-API-Key)</label>
<input id="api-key" type="password" autocomplete="off" spellcheck="false" required>
<label for="org-id">Organization ID (X-Organization-ID)</label>
<input id="org-id" autocomplete="off" spellcheck="false" required>
<div class="row"><button class="primary" type="submit">Save and connect</button><button type="button" id="show-key" aria-pressed="false">Show key</button><button type="button" id="forget">Forget</button><button type="button" id="use-demo" hidden>Use demo credentials</button></div>
<p class="muted">Kept in this browser's localStorage only.</p>
<p id="creds-note" class="note" hidden></p>
<p id="creds-error" class="error" role="alert" hidden></p>
</form>
</section>
<section aria-labelledby="h-personas">
<h2 id="h-personas">Personas</h2>
<ul id="personas" class="list" aria-label="Personas"></ul>
<div class="row"><button type="button" id="new-persona">New persona</button></div>
<form id="persona-form" hidden>
<h3 id="persona-form-title">New persona</h3>
<label for="p-name">Name</label><input id="p-name" required maxlength="100">
<label for="p-description">Description</label><input id="p-description" maxlength="2000">
<label for="p-instructions">Instructions (system prompt)</label><textarea id="p-instructions" rows="3"></textarea>
<label for="p-greeting">Greeting (first message of new sessions)</label><input id="p-greeting">
<label for="p-model">Model (empty: the server's default)</label><input id="p-model" placeholder="gpt-4o-mini">
<div class="grid3"><div><label for="p-temperature">Temperature</label><input id="p-temperature" type="number" min="0" max="2" step="0.1"></div><div><label for="p-max">Max output tokens</label><input id="p-max" type="number" min="1" max="128000" step="1"></div><div><label for="p-avatar">Avatar URL</label><input id="p-avatar" type="url"></div></div>
<div class="row"><button class="primary" type="submit" id="persona-save">Create persona</button><button type="button" id="persona-cancel">Cancel</button><button type="button" id="persona-delete" hidden>Delete persona</button></div>
</form>
<p id="personas-error" class="error" role="alert" hidden></p>
</section>
<section aria-labelledby="h-sessions">
<h2 id="h-sessions">Sessions</h2>
<form id="new-session">
<h3>Start a session</h3>
<label for="s-persona">Persona</label><select id="s-persona" required></select>
<div class="grid3"><div><label for="s-title">Title</label><input id="s-title" maxlength="200"></div><div><label for="s-platform">Platform</label><select id="s-platform"><option>WEB</option><option>API</option><option>MOBILE</option><option>WIDGET</option></select></div><div class="end"><button class="primary" id="s-start" type="submit">Start session</button></div></div>
</form>
<form id="filters">
<h3>Filter</h3>
<div class="grid3"><div><label for="f-persona">Persona</label><select id="f-persona"><option value="">Any</option></select></div><div><label for="f-status">Status</label><select id="f-status"><option value="">Any</option><option>ACTIVE</option><option>ARCHIVED</option></select></div><div><label for="f-platform">Platform</label><select id="f-platform"><option value="">Any</option><option>WEB</option><option>API</option><option>MOBILE</option><option>WIDGET</option></select></div></div>
</form>
<form id="search-form" role="search">
<h3>Search messages</h3>
<label for="search-q">Words, "a phrase", or, -not</label><div class="row"><input id="search-q" maxlength="200" required><button type="submit">Search</button></div>
</form>
<ul id="search-results" class="list" aria-label="Search results" hidden></ul>
<ul id="sessions" class="list" aria-label="Sessions"></ul>
<div class="row"><button type="button" id="more-sessions" hidden>Load more</button><button type="button" id="refresh-sessions">Refresh</button></div>
<p id="sessions-error" class="error" role="alert" hidden></p>
</section>
<section aria-labelledby="h-log">
<details><summary><h2 id="h-log">API calls</h2></summary><ol id="log"></ol></details>
</section>
</div>
<section id="chat" aria-labelledby="chat-title" tabindex="-1">
<div id="chat-head">
<div><h2 id="chat-title">Conversation</h2><p id="chat-sub" class="muted">Open or start a session.</p></div>
<div class="row" id="chat-actions" hidden><button type="button" id="rename">Rename</button><button type="button" id="archive">Archive</button><button type="button" id="reload-session">Reload</button><button type="button" id="delete-session">Delete</button><button type="button" id="export-json">Export JSON</button><button type="button" id="export-md">Export Markdown</button></div>
</div>
<form id="rename-form" hidden><label for="rename-input">New title</label><div class="row"><input id="rename-input" maxlength="200"><button class="primary" type="submit">Save title</button><button type="button" id="rename-cancel">Cancel</button></div></form>
<ol id="messages" aria-label="Messages"></ol>
<p id="chat-status" class="sr" role="status"></p>
<form id="composer" hidden>
<label for="message">Message <span class="muted">(Ctrl+Enter sends)</span></label>
<textarea id="message" rows="3" maxlength="100000"></textarea>
<label for="files">Attach PDF or text files</label>
<input id="files" type="file" multiple accept=".pdf,.docx,.txt,.md,.csv,.json,.html,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document,text/plain,text/markdown,text/csv,application/json,text/html">
<ul id="picked" class="files" aria-label="Files to send"></ul>
<div class="row"><button class="primary" type="submit" id="send">Send</button><button type="button" id="stop" disabled>Stop reply</button></div>
</form>
<p id="archived-note" class="muted" hidden>This session is archived: reactivate it to send messages.</p>
<p id="chat-error" class="error" role="alert" hidden></p>
</section>
</main>`;

const script = String.raw`
(() => {
'use strict';
const $ = (id) => document.getElementById(id);
const STORE = 'conversations-playground.credentials';
const state = { creds: null, personas: [], sessions: [], cursor: null, session: null, files: [], reply: null, abort: null, ratings: new Map() };

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

class ApiError extends Error {
  constructor(status, code, message, retryAfter) { super(message); this.status = status; this.code = code; this.retryAfter = retryAfter; }
}
const HINTS = {
  401: 'Check the API key.',
  403: 'This key does not belong to that organization: check the organization ID.',
  404: 'It may have been deleted, or belong to another organization.',
  413: 'Too large: each attachment is limited (10 MB by default), and so is their total.',
  415: 'Attach PDF, plain text, Markdown, CSV, JSON or HTML files.',
  429: 'Too many requests: wait a moment and retry.',
  502: 'The model provider failed. Your message was saved; send again to retry.',
  504: 'The model did not answer in time. Your message was saved; send again to retry.',
};
function errorFrom(status, err, retryAfter) {
  const data = (err && err.data) || {};
  return new ApiError(data.httpStatus || status, data.appCode || data.code || 'ERROR', (err && err.message) || 'HTTP ' + status, retryAfter);
}
function showError(slot, err) {
  const el = $(slot + '-error');
  if (!err) { el.hidden = true; el.textContent = ''; return; }
  let text = (err.status ? err.status + ' ' : '') + (err.code ? err.code + ': ' : '') + err.message;
  if (err.status === 429 && err.retryAfter) text += ' Retry after ' + err.retryAfter + ' s.';
  if (HINTS[err.status]) text += '\n' + HINTS[err.status];
  el.textContent = '';
  el.hidden = false;
  requestAnimationFrame(() => { el.textContent = text; });
}
function clearErrors() { for (const s of ['creds', 'personas', 'sessions', 'chat']) showError(s, null); }

function logCall(method, path, status, started) {
  const log = $('log');
  log.prepend(h('li', {}, method + ' ' + path + ' \u2192 ' + (status || 'network error') + ' (' + Math.round(performance.now() - started) + ' ms)'));
  while (log.children.length > 30) log.lastChild.remove();
}

function request(method, path, input, signal) {
  const c = state.creds;
  if (!c) throw new ApiError(0, 'NO_CREDENTIALS', 'Enter an API key and organization ID first.');
  const headers = { 'x-api-key': c.apiKey, 'x-organization-id': c.organizationId };
  let url = '/api/trpc/' + path;
  const init = { method, headers, signal };
  if (method === 'GET') url += '?input=' + encodeURIComponent(JSON.stringify(input || {}));
  else { headers['content-type'] = 'application/json'; init.body = JSON.stringify({ json: input }); }
  return { url, init };
}
async function send(method, path, input, signal) {
  const { url, init } = request(method, path, input, signal);
  const started = performance.now();
  let res;
  try { res = await fetch(url, init); } catch (e) {
    if (e.name === 'AbortError') throw e;
    logCall(method, path, 0, started);
    throw new ApiError(0, 'NETWORK', 'Could not reach the API (' + e.message + ').');
  }
  logCall(method, path, res.status, started);
  return res;
}
async function api(method, path, input) {
  const res = await send(method, path, input);
  const body = await res.json().catch(() => null);
  if (!res.ok || !body || body.error) throw errorFrom(res.status, body && body.error, res.headers.get('retry-after'));
  return body.result.data;
}
const query = (path, input) => api('GET', path, input);
const mutate = (path, input) => api('POST', path, input);

/** A tRPC subscription read as server-sent events; calls onEvent for each tracked event. */
async function subscribe(method, path, input, onEvent, signal) {
  const res = await send(method, path, input, signal);
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw errorFrom(res.status, body && body.error, res.headers.get('retry-after'));
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = '';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (event === 'serialized-error') throw errorFrom(500, JSON.parse(data));
      if (event === 'return') { reader.cancel().catch(() => {}); return; }
      if (!event && data) onEvent(JSON.parse(data));
    }
  }
}

// Credentials
function loadCreds() {
  try { const c = JSON.parse(localStorage.getItem(STORE) || 'null'); return c && c.apiKey && c.organizationId ? c : null; } catch { return null; }
}
function useCreds(c, note) {
  $('api-key').value = c.apiKey;
  $('org-id').value = c.organizationId;
  state.creds = { apiKey: c.apiKey.trim(), organizationId: c.organizationId.trim() };
  localStorage.setItem(STORE, JSON.stringify(state.creds));
  $('creds-note').textContent = note || '';
  $('creds-note').hidden = !note;
  return connect();
}
async function connect() {
  clearErrors();
  // Nothing of the previous credentials' organization may stay on screen, whether or not these work.
  clearOrganizationView();
  $('conn').textContent = 'Connecting\u2026';
  try {
    await Promise.all([loadPersonas(), loadSessions()]);
    $('conn').textContent = 'Connected to organization ' + state.creds.organizationId;
  } catch (e) {
    $('conn').textContent = 'Not connected';
    showError('creds', e);
  }
}
$('creds-form').addEventListener('submit', (e) => {
  e.preventDefault();
  useCreds({ apiKey: $('api-key').value, organizationId: $('org-id').value });
});
$('show-key').addEventListener('click', (e) => {
  const show = $('api-key').type === 'password';
  $('api-key').type = show ? 'text' : 'password';
  e.currentTarget.setAttribute('aria-pressed', String(show));
});
$('forget').addEventListener('click', () => {
  localStorage.removeItem(STORE);
  state.creds = null;
  $('api-key').value = '';
  $('org-id').value = '';
  $('conn').textContent = 'Not connected';
  $('creds-note').hidden = true;
});
/** Dev only: npm run dev serves its demo credentials here (404 everywhere else). */
async function demoCredentials(tries) {
  for (let i = 0; i < tries; i++) {
    const res = await fetch('/playground/demo.json', { cache: 'no-store' }).catch(() => null);
    if (res && res.ok) return res.json();
    if (!res || res.status !== 503) return null;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return null;
}

function clearOrganizationView() {
  if (state.abort) { state.abort.abort(); endReply(); }
  state.personas = [];
  state.sessions = [];
  state.cursor = null;
  $('personas').replaceChildren();
  $('sessions').replaceChildren();
  $('more-sessions').hidden = true;
  $('persona-form').hidden = true;
  for (const id of ['s-persona', 'f-persona']) $(id).replaceChildren(...(id === 'f-persona' ? [h('option', { value: '' }, 'Any')] : []));
  clearConversation();
}
function clearConversation() {
  state.session = null;
  $('messages').replaceChildren();
  $('chat-title').textContent = 'Conversation';
  $('chat-sub').textContent = 'Open or start a session.';
  $('chat-actions').hidden = true;
  $('rename-form').hidden = true;
  $('composer').hidden = true;
  $('archived-note').hidden = true;
}

// Personas
const personaName = (id) => (state.personas.find((p) => p.id === id) || {}).name || id;
async function loadPersonas() {
  state.personas = await query('persona.list', { limit: 100 });
  const list = $('personas');
  list.replaceChildren(...state.personas.map((p) => h('li', {},
    h('button', { type: 'button', class: 'pick', onclick: () => editPersona(p), 'aria-label': 'Edit persona ' + p.name },
      h('strong', {}, p.name), h('span', {}, (p.model || 'default model') + ' \u00b7 v' + p.version + (p.description ? ' \u00b7 ' + p.description : ''))))));
  if (!state.personas.length) list.append(h('li', { class: 'muted' }, 'No personas yet: create one.'));
  for (const [id, empty] of [['s-persona', null], ['f-persona', 'Any']]) {
    const select = $(id);
    const current = select.value;
    select.replaceChildren(...(empty ? [h('option', { value: '' }, empty)] : []), ...state.personas.map((p) => h('option', { value: p.id }, p.name)));
    if (state.personas.some((p) => p.id === current)) select.value = current;
  }
}
let editing = null;
const personaFields = { name: 'p-name', description: 'p-description', instructions: 'p-instructions', greeting: 'p-greeting', model: 'p-model', temperature: 'p-temperature', maxOutputTokens: 'p-max', avatarUrl: 'p-avatar' };
function editPersona(p) {
  editing = p;
  for (const [k, id] of Object.entries(personaFields)) $(id).value = p && p[k] !== null && p[k] !== undefined ? p[k] : '';
  $('persona-form-title').textContent = p ? 'Edit ' + p.name : 'New persona';
  $('persona-save').textContent = p ? 'Save changes' : 'Create persona';
  $('persona-delete').hidden = !p;
  $('persona-form').hidden = false;
  $('p-name').focus();
}
$('new-persona').addEventListener('click', () => editPersona(null));
$('persona-cancel').addEventListener('click', () => { $('persona-form').hidden = true; $('new-persona').focus(); });
$('persona-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = {};
  for (const [k, id] of Object.entries(personaFields)) {
    const v = $(id).value.trim();
    if (k === 'name' || k === 'instructions') input[k] = v;
    else if (k === 'temperature' || k === 'maxOutputTokens') input[k] = v === '' ? null : Number(v);
    else input[k] = v === '' ? null : v;
  }
  try {
    const saved = editing ? await mutate('persona.update', { id: editing.id, ...input }) : await mutate('persona.create', input);
    showError('personas', null);
    $('persona-form').hidden = true;
    await loadPersonas();
    $('s-persona').value = saved.id;
    announce((editing ? 'Saved persona ' : 'Created persona ') + saved.name);
  } catch (err) { showError('personas', err); }
});
$('persona-delete').addEventListener('click', async () => {
  if (!editing || !confirm('Delete persona ' + editing.name + '? Its sessions become read-only.')) return;
  try { await mutate('persona.delete', { id: editing.id }); $('persona-form').hidden = true; await loadPersonas(); } catch (err) { showError('personas', err); }
});

// Sessions
function sessionFilter() {
  const f = { limit: 50 };
  for (const [k, id] of [['personaId', 'f-persona'], ['status', 'f-status'], ['platform', 'f-platform']]) if ($(id).value) f[k] = $(id).value;
  return f;
}
function when(iso) { return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }); }
function sessionItem(s) {
  const current = state.session && state.session.id === s.id;
  return h('li', {}, h('button', { type: 'button', class: 'pick', 'aria-current': current ? 'true' : false, 'data-id': s.id, onclick: () => openSession(s.id) },
    h('strong', {}, s.title || 'Untitled session'),
    h('span', {}, s.persona.name + ' \u00b7 ' + s.platform + ' \u00b7 ' + s.status + ' \u00b7 ' + s._count.messages + ' msgs \u00b7 ' + when(s.lastActivityAt || s.updatedAt))));
}
async function loadSessions(more) {
  const input = sessionFilter();
  if (more && state.cursor) input.cursor = state.cursor;
  const page = await query('chat.listSessions', input);
  state.sessions = more ? state.sessions.concat(page) : page;
  state.cursor = page.length === input.limit ? page[page.length - 1].id : null;
  const list = $('sessions');
  list.replaceChildren(...state.sessions.map(sessionItem));
  if (!state.sessions.length) list.append(h('li', { class: 'muted' }, 'No sessions match.'));
  $('more-sessions').hidden = !state.cursor;
}
const refreshSessions = () => loadSessions().then(() => showError('sessions', null), (err) => showError('sessions', err));
$('filters').addEventListener('change', refreshSessions);
$('filters').addEventListener('submit', (e) => { e.preventDefault(); refreshSessions(); });
$('refresh-sessions').addEventListener('click', refreshSessions);
$('more-sessions').addEventListener('click', () => loadSessions(true).catch((err) => showError('sessions', err)));
$('new-session').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const input = { personaId: $('s-persona').value, platform: $('s-platform').value };
    if ($('s-title').value.trim()) input.title = $('s-title').value.trim();
    const s = await mutate('chat.createSession', input);
    $('s-title').value = '';
    showError('sessions', null);
    await loadSessions();
    await openSession(s.id);
  } catch (err) { showError('sessions', err); }
});

// Conversation
function announce(text) { $('chat-status').textContent = text; }
function fmtBytes(n) { return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KB' : (n / 1048576).toFixed(1) + ' MB'; }
function attachmentChips(list) {
  if (!list || !list.length) return null;
  return h('ul', { class: 'files', 'aria-label': 'Attachments' }, list.map((a) => h('li', {}, a.filename +
    (a.pageCount ? ' \u00b7 ' + a.pageCount + (a.pageCount === 1 ? ' page' : ' pages') : '') + ' \u00b7 ' + fmtBytes(a.byteSize || a.size || 0) +
    (a.hasText === false ? ' \u00b7 no text' : '') + (a.truncated ? ' \u00b7 truncated' : ''))));
}
function metaSummary(m) {
  const md = m.metadata || {};
  if (!md.model) return null;
  const u = md.usage || {};
  const c = md.context || {};
  const parts = [md.model];
  if (u.totalTokens !== null && u.totalTokens !== undefined) parts.push(u.totalTokens + ' tokens (' + u.inputTokens + ' in, ' + u.outputTokens + ' out)');
  if (md.latencyMs !== undefined) parts.push(md.latencyMs + ' ms' + (md.timeToFirstTokenMs !== null && md.timeToFirstTokenMs !== undefined ? ', first token ' + md.timeToFirstTokenMs + ' ms' : ''));
  if (c.messagesIncluded !== undefined) parts.push('context: ' + c.messagesIncluded + ' messages included, ' + c.messagesOmitted + ' omitted, ~' + c.estimatedTokens + '/' + c.tokenBudget + ' tokens');
  const inc = (c.attachmentsIncluded || []).map((a) => a.filename + (a.partial ? ' (partial)' : ''));
  const omit = (c.attachmentsOmitted || []).map((a) => a.filename);
  if (inc.length) parts.push('documents used: ' + inc.join(', '));
  if (omit.length) parts.push('documents omitted: ' + omit.join(', '));
  if (md.error) parts.push('error: ' + md.error.message);
  return h('details', { class: 'meta' }, h('summary', {}, parts.join(' \u00b7 ')), h('pre', {}, JSON.stringify(md, null, 2)));
}
function messageItem(m, extra) {
  const who = m.role === 'USER' ? 'You' : m.role === 'ASSISTANT' ? (state.session ? state.session.persona.name : 'Assistant') : 'System';
  const status = m.status && m.status !== 'COMPLETE' ? h('span', { class: 'badge' }, m.status) : null;
  return h('li', { class: 'msg ' + m.role.toLowerCase(), 'data-id': m.id, 'data-status': m.status || '' },
    h('p', { class: 'who' }, who + ' \u00b7 ' + when(m.createdAt) + ' ', status),
    h('div', { class: 'content' }, m.content),
    attachmentChips(m.attachments && m.attachments.length ? m.attachments : extra),
    metaSummary(m),
    rateButtons(m));
}
/** Thumbs on finished replies: feedback.rate, or feedback.remove when the pressed one is pressed again. */
function rateButtons(m) {
  if (m.role !== 'ASSISTANT' || !m.status || m.status === 'STREAMING') return null;
  const current = state.ratings.get(m.id);
  const button = (rating, label) => h('button', { type: 'button', 'aria-pressed': String(current === rating), onclick: async (e) => {
    const row = e.target.closest('.rate');
    try {
      if (state.ratings.get(m.id) === rating) { await mutate('feedback.remove', { messageId: m.id }); state.ratings.delete(m.id); }
      else { await mutate('feedback.rate', { messageId: m.id, rating }); state.ratings.set(m.id, rating); }
      row.replaceWith(rateButtons(m));
    } catch (err) { showError('chat', err); }
  } }, label);
  return h('div', { class: 'rate', role: 'group', 'aria-label': 'Rate this reply' }, button('UP', '\u{1F44D} Helpful'), button('DOWN', '\u{1F44E} Not helpful'));
}
async function loadRatings(sessionId) {
  state.ratings = new Map();
  let cursor;
  for (let i = 0; i < 20; i++) {
    const page = await query('feedback.listForSession', cursor ? { chatSessionId: sessionId, limit: 200, cursor } : { chatSessionId: sessionId, limit: 200 });
    for (const f of page) state.ratings.set(f.messageId, f.rating);
    if (page.length < 200) break;
    cursor = page[page.length - 1].messageId;
  }
}
/** Every page of export.session / export.markdown, saved as one file. */
async function exportSession(kind) {
  const s = state.session;
  const pages = [];
  let cursor = null;
  for (let i = 0; i < 1000; i++) {
    const page = await query(kind === 'json' ? 'export.session' : 'export.markdown', cursor ? { chatSessionId: s.id, cursor } : { chatSessionId: s.id });
    pages.push(page);
    if (page.page.complete) break;
    cursor = page.page.nextCursor;
  }
  const first = pages[0];
  const text = kind === 'json'
    ? JSON.stringify({ ...first, messages: pages.flatMap((p) => p.messages), page: undefined }, null, 2)
    : pages.map((p) => p.markdown).join('\n');
  const a = h('a', { href: URL.createObjectURL(new Blob([text], { type: kind === 'json' ? 'application/json' : 'text/markdown' })), download: s.id + (kind === 'json' ? '.json' : '.md') });
  document.body.append(a);
  a.click();
  a.remove();
  announce('Exported ' + s.id);
}
function snippetNode(hit) {
  const out = [];
  let at = 0;
  for (const r of hit.highlights) { out.push(hit.snippet.slice(at, r.start), h('mark', {}, hit.snippet.slice(r.start, r.end))); at = r.end; }
  out.push(hit.snippet.slice(at));
  return h('p', {}, out);
}
async function searchMessages(q) {
  const list = $('search-results');
  const result = await query('search.messages', { query: q, limit: 20 });
  list.hidden = false;
  list.replaceChildren(...(result.items.length ? result.items.map((hit) => h('li', {},
    h('p', { class: 'who' }, (hit.session.title || 'Untitled session') + ' \u00b7 ' + hit.role + ' \u00b7 ' + when(hit.createdAt)),
    h('button', { type: 'button', class: 'pick', onclick: () => openSession(hit.chatSessionId) }, snippetNode(hit))))
    : [h('li', {}, 'No messages match.')]));
}
function renderSession(s) {
  state.session = s;
  $('chat-title').textContent = s.title || 'Untitled session';
  $('chat-sub').textContent = s.persona.name + ' \u00b7 ' + s.platform + ' \u00b7 ' + s.status + ' \u00b7 ' + s.id;
  $('chat-actions').hidden = false;
  $('archive').textContent = s.status === 'ARCHIVED' ? 'Reactivate' : 'Archive';
  $('composer').hidden = s.status === 'ARCHIVED';
  $('archived-note').hidden = s.status !== 'ARCHIVED';
  $('messages').replaceChildren(...s.messages.map((m) => messageItem(m)));
  for (const b of document.querySelectorAll('#sessions .pick')) b.setAttribute('aria-current', String(b.dataset.id === s.id));
  scrollDown();
}
function scrollDown() { const l = $('messages'); l.scrollTop = l.scrollHeight; }
async function openSession(id, keepFocus, keepError) {
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
  } catch (err) { showError('chat', err); }
}

/** Streams one reply into a new message element; the element is replaced by the stored reply at the end. */
function startReply(replyId) {
  const li = messageItem({ id: replyId, role: 'ASSISTANT', content: '', status: 'STREAMING', createdAt: new Date().toISOString() });
  li.setAttribute('aria-busy', 'true');
  li.dataset.streaming = 'true';
  li.querySelector('.content').setAttribute('aria-live', 'polite');
  $('messages').append(li);
  state.reply = { id: replyId, text: '', li };
  $('stop').disabled = false;
  announce('Reply streaming\u2026');
  return li;
}
function onTurnEvent(e, files) {
  if (e.type === 'message') {
    $('messages').append(messageItem(e.message, files));
    $('message').value = '';
    state.files = [];
    renderPicked();
    if (e.replyId) startReply(e.replyId);
  } else if (e.type === 'delta') {
    const r = state.reply || startReply(e.replyId);
    if (e.offset !== r.text.length) r.text = r.text.slice(0, e.offset);
    r.text += e.text;
    r.li.querySelector('.content').textContent = r.text;
    scrollDown();
  } else if (e.type === 'reply') {
    const failure = replyFailure(e.message);
    if (failure) showError('chat', failure);
    const li = messageItem(e.message);
    if (state.reply) state.reply.li.replaceWith(li); else $('messages').append(li);
    state.reply = null;
    $('stop').disabled = true;
    announce('Reply ' + e.message.status.toLowerCase() + ': ' + e.message.content);
    scrollDown();
  }
}
/** A reply the model failed to finish (502 provider failure, 504 timeout), as an error to show. */
function replyFailure(m) {
  const err = m.status === 'INCOMPLETE' && m.metadata && m.metadata.error;
  if (!err) return null;
  return new ApiError(err.code === 'MODEL_TIMEOUT' ? 504 : 502, err.code || 'MODEL_ERROR', err.message || 'The reply could not be generated.');
}
function endReply() {
  if (state.reply) { state.reply.li.removeAttribute('aria-busy'); delete state.reply.li.dataset.streaming; }
  state.reply = null;
  state.abort = null;
  $('stop').disabled = true;
  $('send').disabled = false;
}
async function follow(m) {
  const ctl = new AbortController();
  state.abort = ctl;
  const li = startReply(m.id);
  $('messages').querySelector('[data-id="' + m.id + '"]:not([data-streaming])')?.remove();
  state.reply.text = m.content;
  li.querySelector('.content').textContent = m.content;
  try { await subscribe('GET', 'chat.resumeReply', { messageId: m.id, offset: m.content.length }, onTurnEvent, ctl.signal); } catch (err) { if (err.name !== 'AbortError') showError('chat', err); } finally { if (state.abort === ctl) endReply(); }
}
function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).slice(String(r.result).indexOf(',') + 1));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}
const TYPES = { pdf: 'application/pdf', txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', json: 'application/json', html: 'text/html', htm: 'text/html', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' };
function mimeOf(file) { return file.type || TYPES[file.name.split('.').pop().toLowerCase()] || 'application/octet-stream'; }
function renderPicked() {
  $('picked').replaceChildren(...state.files.map((f, i) => h('li', {}, f.name + ' \u00b7 ' + fmtBytes(f.size),
    h('button', { type: 'button', 'aria-label': 'Remove ' + f.name, onclick: () => { state.files.splice(i, 1); renderPicked(); $('files').focus(); } }, '\u2715'))));
}
$('files').addEventListener('change', (e) => {
  state.files = state.files.concat(Array.from(e.target.files));
  e.target.value = '';
  renderPicked();
});
$('message').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $('composer').requestSubmit(); }
});
$('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const s = state.session;
  const content = $('message').value.trim();
  if (!s || state.abort) return;
  if (!content) { showError('chat', new ApiError(0, '', 'Write a message first.')); $('message').focus(); return; }
  showError('chat', null);
  $('send').disabled = true;
  const ctl = new AbortController();
  state.abort = ctl;
  let failed = false;
  try {
    const files = state.files.slice();
    const attachments = await Promise.all(files.map(async (f) => ({ filename: f.name, mimeType: mimeOf(f), data: await readFile(f) })));
    const local = files.map((f) => ({ filename: f.name, size: f.size }));
    await subscribe('POST', 'chat.streamMessage', { chatSessionId: s.id, content, role: 'USER', attachments }, (ev) => {
      onTurnEvent(ev, local);
      if (ev.type === 'reply' && replyFailure(ev.message)) failed = true;
    }, ctl.signal);
  } catch (err) {
    if (err.name !== 'AbortError') { failed = true; showError('chat', err); announce('The message was not sent or the reply failed.'); }
  } finally {
    if (state.abort === ctl) {
      endReply();
      // Re-read the stored history, keeping a failed send's error on screen until the next action.
      if (state.session && state.session.id === s.id) openSession(s.id, true, failed);
    }
    refreshSessions();
  }
});
$('stop').addEventListener('click', async () => {
  if (!state.reply) return;
  try { await mutate('chat.stopReply', { messageId: state.reply.id }); announce('Reply stopped.'); } catch (err) { showError('chat', err); }
});
$('export-json').addEventListener('click', () => exportSession('json').catch((err) => showError('chat', err)));
$('export-md').addEventListener('click', () => exportSession('markdown').catch((err) => showError('chat', err)));
$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  showError('sessions', null);
  searchMessages($('search-q').value.trim()).catch((err) => showError('sessions', err));
});
$('rename').addEventListener('click', () => { $('rename-form').hidden = false; $('rename-input').value = state.session.title || ''; $('rename-input').focus(); });
$('rename-cancel').addEventListener('click', () => { $('rename-form').hidden = true; $('rename').focus(); });
async function updateSession(changes) {
  try {
    await mutate('chat.updateSession', { id: state.session.id, ...changes });
    await openSession(state.session.id, true);
    await refreshSessions();
    return true;
  } catch (err) { showError('chat', err); return false; }
}
$('rename-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (await updateSession({ title: $('rename-input').value.trim() || null })) { $('rename-form').hidden = true; $('rename').focus(); }
});
$('archive').addEventListener('click', () => updateSession({ status: state.session.status === 'ARCHIVED' ? 'ACTIVE' : 'ARCHIVED' }));
$('reload-session').addEventListener('click', () => openSession(state.session.id, true));
$('delete-session').addEventListener('click', async () => {
  if (!confirm('Delete this session and all its messages?')) return;
  try {
    await mutate('chat.deleteSession', { id: state.session.id });
    clearConversation();
    await refreshSessions();
  } catch (err) { showError('chat', err); }
});

// Start: saved credentials first; with npm run dev, the demo ones fill in when nothing is saved.
(async () => {
  const saved = loadCreds();
  if (saved) useCreds(saved);
  const demo = document.body.dataset.demo && (await demoCredentials(saved ? 1 : 60));
  if (!demo) return;
  $('use-demo').hidden = false;
  $('use-demo').onclick = () => useCreds(demo, 'Demo credentials from npm run dev.');
  if (!saved) useCreds(demo, 'Demo credentials from npm run dev.');
})();
})();
`;

/**
 * The page, with `__NONCE__` where the per-request CSP nonce goes and `__DEMO__` where "1" says
 * /playground/demo.json exists (npm run dev), so the page never asks for it elsewhere.
 */
export const PLAYGROUND_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Playground · Conversations API</title>
<link rel="icon" href="data:,">
<style nonce="__NONCE__">${css}</style>
</head>
<body data-demo="__DEMO__">
<a class="skip" href="#chat">Skip to conversation</a>
${html}
<script nonce="__NONCE__">${script}</script>
</body>
</html>
`;
