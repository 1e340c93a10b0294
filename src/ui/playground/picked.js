// @ts-check
/** Files picked for the next message: listed with a remove button, read as base64 when sent. */
import { fileType, readBase64 } from '../files.js';
import { $, fmtBytes, h, input } from './dom.js';
import { state } from './state.js';

/** The picked files as chat.streamMessage attachments. */
export function pickedAttachments(/** @type {File[]} */ files) {
  return Promise.all(
    files.map(async (f) => ({
      filename: f.name,
      mimeType: fileType(f) || 'application/octet-stream',
      data: await readBase64(f),
    })),
  );
}

export function renderPicked() {
  const items = state.files.map((f, i) => {
    const remove = () => {
      state.files.splice(i, 1);
      renderPicked();
      input('files').focus();
    };
    const label = `Remove ${f.name}`;
    return h(
      'li',
      {},
      `${f.name} \u00b7 ${fmtBytes(f.size)}`,
      h('button', { type: 'button', 'aria-label': label, onclick: remove }, '\u2715'),
    );
  });
  $('picked').replaceChildren(...items);
}

export function initPicked() {
  const files = input('files');
  files.addEventListener('change', () => {
    state.files = state.files.concat(Array.from(files.files ?? []));
    files.value = '';
    renderPicked();
  });
}
