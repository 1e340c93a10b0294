// @ts-check
/** Chosen files as the API takes them (type and base64 bytes); shared by the playground and the widget. */

/** @type {Record<string, string>} */
export const FILE_TYPES = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  htm: 'text/html',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** The file's type from the browser, else from its extension, else ''; the server checks the content either way. */
export function fileType(/** @type {File} */ file) {
  return file.type || FILE_TYPES[file.name.split('.').pop()?.toLowerCase() ?? ''] || '';
}

/** @returns {Promise<string>} the file's bytes in base64 (read as a data URL, its prefix dropped) */
export function readBase64(/** @type {File} */ file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
