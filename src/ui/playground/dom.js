// @ts-check
/** Small DOM helpers shared by the playground's modules. */

/**
 * The element with this id; the page's markup (index.html) always has it.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

/** @param {string} id */
export const input = (id) => /** @type {HTMLInputElement} */ ($(id));
/** @param {string} id */
export const select = (id) => /** @type {HTMLSelectElement} */ ($(id));
/** @param {string} id */
export const textarea = (id) => /** @type {HTMLTextAreaElement} */ ($(id));
/** @param {string} id */
export const button = (id) => /** @type {HTMLButtonElement} */ ($(id));
/** @param {string} id */
export const form = (id) => /** @type {HTMLFormElement} */ ($(id));

/** @typedef {Node | string | null | undefined | false} Child */
/** @typedef {Record<string, string | number | boolean | null | undefined | ((event: any) => unknown)>} Attrs */

/**
 * Builds an element: attributes named on* become listeners, `true` an empty attribute, and false,
 * null or undefined leave it out. Text children are text nodes, never markup.
 * @param {string} tag
 * @param {Attrs | null} attrs
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Says something to screen-reader users through the conversation's status region. */
export function announce(/** @type {string} */ text) {
  $('chat-status').textContent = text;
}

/** A date and time in the visitor's locale, short. */
export function when(/** @type {string} */ iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

export function fmtBytes(/** @type {number} */ n) {
  if (n < 1024) return `${n} B`;
  return n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`;
}
