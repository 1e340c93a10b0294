/*! Persona chat widget v1 — served as GET /widget.js. Embed:
 *  <script src="https://API/widget.js" data-key="pub_…" data-persona="persona_…" async></script>
 * Optional: data-color, data-text-color, data-greeting, data-title, data-position ("left" or "right"),
 * data-user-id + data-user-hash (identity verified by the organization's backend).
 * A file button appears only when the key allows visitor attachments (its /check answer says which).
 * Plain ES2020, no dependencies, loads nothing from other hosts; everything lives in a shadow root.
 */
(() => {
  const script = document.currentScript;
  if (!script?.src) return;
  const cfg = script.dataset;
  const apiBase = new URL(script.src).origin;
  const key = cfg.key || '';
  const persona = cfg.persona || '';
  const base = `${apiBase}/widget/v1/${encodeURIComponent(key)}`;
  const storageKey = `persona-widget:${key}:${persona}`;
  const accent = /^#[0-9a-f]{3,8}$|^[a-z]+$/i.test(cfg.color || '') ? cfg.color : '#2563eb';
  const onAccent = /^#[0-9a-f]{3,8}$|^[a-z]+$/i.test(cfg.textColor || '') ? cfg.textColor : '#ffffff';
  const side = cfg.position === 'left' ? 'left' : 'right';

  const host = document.createElement('div');
  host.setAttribute('data-persona-widget', '');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>
:host{all:initial}
*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.launch{position:fixed;${side}:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:${accent};color:${onAccent};display:grid;place-items:center;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}
.launch:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.panel{position:fixed;${side}:20px;bottom:88px;width:min(380px,calc(100vw - 40px));height:min(560px,calc(100vh - 120px));display:flex;flex-direction:column;background:#fff;color:#111;border-radius:12px;box-shadow:0 10px 30px rgba(0,0,0,.3);overflow:hidden;z-index:2147483000}
.panel[hidden]{display:none}
header{background:${accent};color:${onAccent};padding:12px 14px;display:flex;align-items:center;justify-content:space-between}
header h2{font-size:16px;margin:0}
header button{background:transparent;border:0;color:inherit;font-size:20px;cursor:pointer}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f8fafc}
.msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;font-size:14px;line-height:1.4}
.msg.USER{align-self:flex-end;background:${accent};color:${onAccent}}
.msg.ASSISTANT{align-self:flex-start;background:#e5e7eb;color:#111}
.msg.note{align-self:center;background:transparent;color:#555;font-size:13px}
.error{color:#991b1b;background:#fee2e2;padding:8px 12px;font-size:13px;margin:0}
.error:empty{display:none}
form{display:flex;gap:6px;padding:10px;border-top:1px solid #e5e7eb}
textarea{flex:1;resize:none;height:40px;padding:9px;border:1px solid #cbd5e1;border-radius:8px;font-size:14px}
form button{border:0;border-radius:8px;padding:0 14px;background:${accent};color:${onAccent};cursor:pointer;font-size:14px}
form button[hidden],.files:empty{display:none}
form .attach{background:transparent;color:#334155;padding:0 8px;border:1px solid #cbd5e1}
.files{list-style:none;margin:0;padding:6px 10px 0;display:flex;flex-wrap:wrap;gap:6px}
.files li{background:#e2e8f0;border-radius:6px;padding:3px 4px 3px 8px;font-size:13px;display:flex;align-items:center;gap:4px}
.files button{border:0;background:transparent;cursor:pointer;font-size:16px;line-height:1}
form button:disabled{opacity:.5;cursor:default}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
</style>
<button class="launch" type="button" aria-expanded="false" aria-controls="panel" aria-label="Open chat"><svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg></button>
<section class="panel" id="panel" role="dialog" aria-modal="false" aria-labelledby="title" hidden>
<header><h2 id="title">Chat</h2><button type="button" class="close" aria-label="Close chat">&times;</button></header>
<div class="log" role="log" aria-live="polite" aria-relevant="additions text" tabindex="0" aria-label="Conversation"></div>
<p class="error" role="alert"></p>
<ul class="files" aria-label="Attached files"></ul>
<form><button type="button" class="attach" aria-label="Attach a file" hidden><svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="none" stroke="currentColor" stroke-width="2" d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"/></svg></button><input type="file" class="file" hidden tabindex="-1">
<label class="sr" for="input">Your message</label><textarea id="input" maxlength="2000" placeholder="Type a message…" disabled></textarea>
<button type="submit" class="send" disabled>Send</button><button type="button" class="stop" hidden>Stop</button></form>
</section>`;
  const $ = (selector) => root.querySelector(selector);
  const launch = $('.launch');
  const panel = $('.panel');
  const log = $('.log');
  const errorBox = $('.error');
  const input = $('textarea');
  const sendButton = $('.send');
  const stopButton = $('.stop');
  const attachButton = $('.attach');
  const fileInput = $('.file');
  const fileList = $('.files');
  if (cfg.title) $('#title').textContent = cfg.title;

  let state = null; // { sessionId, token, expiresAt }
  let started = false;
  let busy = false;
  let replyId = null;
  let policy = null; // { maxCount, maxBytes, types } when the key accepts visitor files
  let files = []; // [{ filename, mimeType, data }] waiting to be sent

  const showError = (text) => {
    errorBox.textContent = text || '';
  };
  const bubble = (role, text) => {
    const el = document.createElement('div');
    el.className = `msg ${role}`;
    el.textContent = text;
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  };
  const setReady = (ready) => {
    input.disabled = !ready;
    sendButton.disabled = !ready || busy;
    attachButton.disabled = !ready || busy || files.length >= (policy?.maxCount || 0);
  };

  const showFiles = () => {
    fileList.textContent = '';
    files.forEach((file, i) => {
      const item = document.createElement('li');
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '×';
      remove.setAttribute('aria-label', `Remove ${file.filename}`);
      remove.addEventListener('click', () => {
        files.splice(i, 1);
        showFiles();
        attachButton.focus();
      });
      item.append(file.filename, remove);
      fileList.appendChild(item);
    });
    setReady(Boolean(state));
  };
  const megabytes = (bytes) => `${Math.round(bytes / 104857.6) / 10} MB`;
  const TYPES = {
    pdf: 'application/pdf',
    txt: 'text/plain',
    md: 'text/markdown',
    csv: 'text/csv',
    json: 'application/json',
    html: 'text/html',
  };

  /** Checks a chosen file against the key's allowance, then reads it as base64 (FileReader data URL). */
  const addFile = (file) => {
    const mimeType = file.type || TYPES[file.name.split('.').pop().toLowerCase()] || '';
    if (!policy.types.includes(mimeType))
      return showError(`"${file.name}" cannot be sent here; accepted: ${policy.types.join(', ')}.`);
    if (file.size > policy.maxBytes)
      return showError(
        `"${file.name}" is too large (${megabytes(file.size)}); the limit is ${megabytes(policy.maxBytes)}.`,
      );
    const reader = new FileReader();
    reader.onload = () => {
      files.push({ filename: file.name, mimeType, data: String(reader.result).replace(/^[^,]*,/, '') });
      showError('');
      showFiles();
    };
    reader.onerror = () => showError(`"${file.name}" could not be read.`);
    reader.readAsDataURL(file);
  };

  /** tRPC error → a sentence for the visitor (with the wait for 429s). */
  const problem = (body, res) => {
    const status = res ? res.status : body?.data?.httpStatus;
    if (status === 429) {
      const wait = res?.headers.get('retry-after');
      return `You are sending messages too quickly.${wait ? ` Please wait ${wait} s and try again.` : ''}`;
    }
    return body?.error?.message || body?.message || 'Something went wrong; please try again.';
  };

  const call = async (path, args, method) => {
    const headers = { 'content-type': 'application/json' };
    if (state) headers['x-visitor-token'] = state.token;
    const url = `${base}/trpc/${path}`;
    const res =
      method === 'GET'
        ? await fetch(`${url}?input=${encodeURIComponent(JSON.stringify(args))}`, { headers })
        : await fetch(url, { method: 'POST', headers, body: JSON.stringify(args) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const error = new Error(problem(body, res));
      error.status = res.status;
      throw error;
    }
    return body.result.data;
  };

  const save = () => {
    try {
      if (state) localStorage.setItem(storageKey, JSON.stringify(state));
      else localStorage.removeItem(storageKey);
    } catch {
      // storage blocked (private mode): the conversation lasts until the page closes
    }
  };

  const load = () => {
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey) || 'null');
      return saved && Date.parse(saved.expiresAt) > Date.now() + 60_000 ? saved : null;
    } catch {
      return null;
    }
  };

  /** Shows the stored conversation; a reply still being generated (a reload mid-reply) is followed on. */
  const render = (session) => {
    if (!cfg.title && session.persona?.name) $('#title').textContent = session.persona.name;
    log.textContent = '';
    if (cfg.greeting) bubble('note', cfg.greeting);
    let streaming = null;
    for (const m of session.messages || []) {
      if (m.role === 'SYSTEM') continue;
      const names = (m.attachments || []).map((a) => `\nAttached: ${a.filename}`).join('');
      const el = bubble(m.role, m.content + names);
      streaming = m.role === 'ASSISTANT' && m.status === 'STREAMING' ? { id: m.id, el, text: m.content } : null;
    }
    return streaming;
  };

  const start = async () => {
    started = true;
    bubble('note', 'Connecting…');
    try {
      const check = await fetch(`${base}/check?persona=${encodeURIComponent(persona)}`).then((r) => r.json());
      if (!check.allowed) throw new Error(check.message);
      policy = check.attachments || null;
      attachButton.hidden = !policy;
      if (policy) fileInput.accept = policy.types.join(',');
      state = load();
      if (state) {
        try {
          const streaming = render(await call('chat.getSession', { id: state.sessionId }, 'GET'));
          if (streaming) {
            streaming.el.setAttribute('aria-busy', 'true');
            replyId = streaming.id;
            busyWhile(() =>
              stream('chat.resumeReply', { messageId: streaming.id, offset: streaming.text.length }, streaming),
            );
          }
        } catch (error) {
          if (error.status !== 401 && error.status !== 403 && error.status !== 404) throw error;
          state = null;
        }
      }
      if (!state) {
        const startInput = { personaId: persona };
        if (cfg.userId && cfg.userHash) Object.assign(startInput, { userId: cfg.userId, userHash: cfg.userHash });
        const created = await call('widget.startSession', startInput, 'POST');
        state = {
          sessionId: created.session.id,
          token: created.visitorToken,
          expiresAt: created.visitorTokenExpiresAt,
        };
        save();
        render(await call('chat.getSession', { id: state.sessionId }, 'GET'));
      }
      showError('');
      setReady(true);
      input.focus();
    } catch (error) {
      started = false;
      log.textContent = '';
      const offline = error instanceof TypeError;
      bubble('note', 'Chat unavailable.');
      showError(offline ? 'The chat service cannot be reached from this page.' : error.message);
    }
  };

  /** Reads tRPC's server-sent events: the user message, text deltas, then the stored reply. */
  const stream = async (path, args, resumed) => {
    const res = await fetch(`${base}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-visitor-token': state.token },
      body: JSON.stringify(args),
    });
    if (!res.ok || !res.body) {
      const error = new Error(problem(await res.json().catch(() => ({})), res));
      error.status = res.status;
      throw error;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let reply = resumed ? resumed.el : null;
    let text = resumed ? resumed.text : '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (!data) continue;
        const payload = JSON.parse(data);
        if (event === 'serialized-error') {
          const error = new Error(problem(payload));
          error.status = payload?.data?.httpStatus;
          throw error;
        }
        if (event !== 'message' || !payload || !payload.type) continue;
        if (payload.type === 'message' && payload.replyId) {
          replyId = payload.replyId;
          reply = bubble('ASSISTANT', '');
          reply.setAttribute('aria-busy', 'true');
        } else if (payload.type === 'delta') {
          replyId = payload.replyId;
          if (!reply) reply = bubble('ASSISTANT', '');
          text += payload.text;
          reply.textContent = text;
          log.scrollTop = log.scrollHeight;
        } else if (payload.type === 'reply') {
          if (!reply) reply = bubble('ASSISTANT', '');
          reply.textContent = payload.message.content;
          reply.removeAttribute('aria-busy');
          if (payload.message.status === 'STOPPED') bubble('note', 'Reply stopped.');
          await reader.cancel().catch(() => {});
          return;
        }
      }
    }
  };

  /** Runs a streamed call with the panel in its busy state (Stop shown, Send disabled). */
  const busyWhile = async (task) => {
    busy = true;
    setReady(Boolean(state));
    stopButton.hidden = false;
    showError('');
    try {
      await task();
    } catch (error) {
      showError(error instanceof TypeError ? 'Connection lost; please try again.' : error.message);
    } finally {
      busy = false;
      replyId = null;
      stopButton.hidden = true;
      setReady(true);
      input.focus();
    }
  };

  const open = (isOpen) => {
    panel.hidden = !isOpen;
    launch.setAttribute('aria-expanded', String(isOpen));
    launch.setAttribute('aria-label', isOpen ? 'Close chat' : 'Open chat');
    if (isOpen) {
      if (!started) start();
      else input.focus();
    } else launch.focus();
  };

  launch.addEventListener('click', () => open(panel.hidden));
  $('.close').addEventListener('click', () => open(false));
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') open(false);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      $('form').requestSubmit();
    }
  });
  /** Sends the message with the chosen files; a refused send (413, 415…) gives both back to fix. */
  const send = (text, attached) => {
    const content = text || attached.map((f) => f.filename).join(', ');
    const el = bubble('USER', content + attached.map((f) => `\nAttached: ${f.filename}`).join(''));
    const args = { chatSessionId: state.sessionId, content };
    if (attached.length) args.attachments = attached;
    return busyWhile(async () => {
      try {
        await stream('chat.streamMessage', args);
      } catch (error) {
        if (error.status >= 400 && error.status < 500) {
          el.remove();
          input.value = text;
          files = attached;
          showFiles();
        }
        throw error;
      }
    });
  };

  $('form').addEventListener('submit', (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if ((!content && !files.length) || busy || !state) return;
    input.value = '';
    const attached = files;
    files = [];
    showFiles();
    send(content, attached);
  });
  attachButton.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    if (fileInput.files[0]) addFile(fileInput.files[0]);
    fileInput.value = '';
  });
  stopButton.addEventListener('click', () => {
    if (!replyId) return;
    call('chat.stopReply', { messageId: replyId }, 'POST').catch((error) => showError(error.message));
  });

  const mount = () => document.body.appendChild(host);
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
