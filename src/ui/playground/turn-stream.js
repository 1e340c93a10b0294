// @ts-check
/**
 * A turn that rewrites what is on screen (a regeneration, an edit), streamed like a send: its first
 * event says what it replaces, the deltas and the reply follow, and the session is re-read at the end.
 */
import { showError, subscribe } from './api.js';
import { endReply, onTurnEvent, openSession, replyFailure } from './conversation.js';
import { announce, button } from './dom.js';
import { state } from './state.js';

/**
 * @param {string} procedure the streamed procedure (chat.streamRegenerate, chat.streamEditMessage)
 * @param {object} input its input
 * @param {(ev: any) => void} onMessage what the turn's first event replaces on screen
 * @param {string} failure what a screen reader hears when the turn fails
 */
export async function streamInPlace(procedure, input, onMessage, failure) {
  const s = state.session;
  if (!s || state.abort) return;
  showError('chat', null);
  button('send').disabled = true;
  const ctl = new AbortController();
  state.abort = ctl;
  let failed = false;
  /** @param {any} ev */
  const onEvent = (ev) => {
    if (ev.type === 'message') return onMessage(ev);
    onTurnEvent(ev);
    if (ev.type === 'reply' && replyFailure(ev.message)) failed = true;
  };
  try {
    await subscribe('POST', procedure, input, onEvent, ctl.signal);
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) {
      failed = true;
      showError('chat', err);
      announce(failure);
    }
  } finally {
    if (state.abort === ctl) {
      endReply();
      if (state.session?.id === s.id) openSession(s.id, true, failed);
    }
  }
}
