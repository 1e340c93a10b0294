// @ts-check
/** Files a visitor attaches, where the key allows them: checked here first, read as base64. */

import { fileType, readBase64 } from '../files.js';

/** @typedef {import('./app.js').WidgetApp} WidgetApp */

const megabytes = (/** @type {number} */ bytes) => `${Math.round(bytes / 104857.6) / 10} MB`;

/** Lists the chosen files, each with a remove button. */
export function showFiles(/** @type {WidgetApp} */ app) {
  const { fileList, attachButton } = app.view;
  fileList.textContent = '';
  app.files.forEach((file, i) => {
    const item = document.createElement('li');
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = '×';
    remove.setAttribute('aria-label', `Remove ${file.filename}`);
    remove.addEventListener('click', () => {
      app.files.splice(i, 1);
      showFiles(app);
      attachButton.focus();
    });
    item.append(file.filename, remove);
    fileList.appendChild(item);
  });
  app.setReady(Boolean(app.visit));
}

/** Checks a chosen file against the key's allowance, then reads it as base64 (FileReader data URL). */
export function addFile(/** @type {WidgetApp} */ app, /** @type {File} */ file) {
  const policy = app.policy;
  if (!policy) return;
  const mimeType = fileType(file);
  if (!policy.types.includes(mimeType))
    return app.view.showError(`"${file.name}" cannot be sent here; accepted: ${policy.types.join(', ')}.`);
  if (file.size > policy.maxBytes)
    return app.view.showError(
      `"${file.name}" is too large (${megabytes(file.size)}); the limit is ${megabytes(policy.maxBytes)}.`,
    );
  readBase64(file).then(
    (data) => {
      app.files.push({ filename: file.name, mimeType, data });
      app.view.showError('');
      showFiles(app);
    },
    () => app.view.showError(`"${file.name}" could not be read.`),
  );
}
