// @ts-check
/** Files picked for the next message: listed with a remove button, read as base64 when sent. */
import { $, fmtBytes, h, input } from './dom.js';
import { state } from './state.js';

/** @type {Record<string, string>} */
const TYPES = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  htm: 'text/html',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** The file's type, from the browser or else its extension; the server checks the content either way. */
function mimeOf(/** @type {File} */ file) {
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return file.type || TYPES[ext] || 'application/octet-stream';
}

/** @returns {Promise<string>} the file's bytes in base64 */
function readFile(/** @type {File} */ file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).slice(String(r.result).indexOf(',') + 1));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

/** The picked files as chat.streamMessage attachments. */
export function pickedAttachments(/** @type {File[]} */ files) {
  return Promise.all(files.map(async (f) => ({ filename: f.name, mimeType: mimeOf(f), data: await readFile(f) })));
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
