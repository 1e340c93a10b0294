// @ts-check
/** Sending a message (with the picked files) and reading its turn as it streams; stopping a reply. */
import { ApiError, mutate, showError, subscribe } from './api.js';
import { endReply, onTurnEvent, openSession, replyFailure } from './conversation.js';
import { announce, button, form, textarea } from './dom.js';
import { pickedAttachments } from './picked.js';
import { refreshSessions } from './sessions.js';
import { state } from './state.js';

/**
 * Streams one turn; true when it failed (the send was refused, or the reply could not be generated).
 * @param {import('./state.js').Session} s
 * @param {string} content
 * @param {AbortController} ctl
 */
async function sendTurn(s, content, ctl) {
  let failed = false;
  try {
    const files = state.files.slice();
    const attachments = await pickedAttachments(files);
    const local = files.map((f) => ({ filename: f.name, size: f.size }));
    const input = { chatSessionId: s.id, content, role: 'USER', attachments };
    await subscribe(
      'POST',
      'chat.streamMessage',
      input,
      (ev) => {
        onTurnEvent(ev, local);
        if (ev.type === 'reply' && replyFailure(ev.message)) failed = true;
      },
      ctl.signal,
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) {
      failed = true;
      showError('chat', err);
      announce('The message was not sent or the reply failed.');
    }
  }
  return failed;
}

async function submit() {
  const s = state.session;
  const content = textarea('message').value.trim();
  if (!s || state.abort) return;
  if (!content) {
    showError('chat', new ApiError(0, '', 'Write a message first.'));
    textarea('message').focus();
    return;
  }
  showError('chat', null);
  button('send').disabled = true;
  const ctl = new AbortController();
  state.abort = ctl;
  let failed = true;
  try {
    failed = await sendTurn(s, content, ctl);
  } finally {
    if (state.abort === ctl) {
      endReply();
      // Re-read the stored history, keeping a failed send's error on screen until the next action.
      if (state.session?.id === s.id) openSession(s.id, true, failed);
    }
    refreshSessions();
  }
}

export function initComposer() {
  textarea('message').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form('composer').requestSubmit();
    }
  });
  form('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  button('stop').addEventListener('click', async () => {
    if (!state.reply) return;
    try {
      await mutate('chat.stopReply', { messageId: state.reply.id });
      announce('Reply stopped.');
    } catch (err) {
      showError('chat', err);
    }
  });
}
