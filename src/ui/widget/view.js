// @ts-check
/** The widget's elements in a shadow root (nothing of the host page's styles reaches them), and drawing. */
import { adoptStyles, WIDGET_MARKUP, widgetCss } from './styles.js';

const COLOUR = /^#[0-9a-f]{3,8}$|^[a-z]+$/i;

/**
 * Builds the widget for the script tag's settings (data-color, data-text-color, data-position, data-title).
 * @param {DOMStringMap} cfg
 */
export function createView(cfg) {
  const accent = cfg.color && COLOUR.test(cfg.color) ? cfg.color : '#2563eb';
  const onAccent = cfg.textColor && COLOUR.test(cfg.textColor) ? cfg.textColor : '#ffffff';
  const host = document.createElement('div');
  host.setAttribute('data-persona-widget', '');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = WIDGET_MARKUP;
  adoptStyles(root, widgetCss(accent, onAccent, cfg.position === 'left' ? 'left' : 'right'));
  /**
   * @template {Element} T
   * @param {string} selector
   * @returns {T}
   */
  const find = (selector) => {
    const el = root.querySelector(selector);
    if (!el) throw new Error(`widget markup lacks ${selector}`);
    return /** @type {T} */ (el);
  };
  const view = {
    host,
    launch: /** @type {HTMLButtonElement} */ (find('.launch')),
    panel: /** @type {HTMLElement} */ (find('.panel')),
    title: /** @type {HTMLElement} */ (find('#title')),
    close: /** @type {HTMLButtonElement} */ (find('.close')),
    log: /** @type {HTMLElement} */ (find('.log')),
    errorBox: /** @type {HTMLElement} */ (find('.error')),
    form: /** @type {HTMLFormElement} */ (find('form')),
    input: /** @type {HTMLTextAreaElement} */ (find('textarea')),
    sendButton: /** @type {HTMLButtonElement} */ (find('.send')),
    stopButton: /** @type {HTMLButtonElement} */ (find('.stop')),
    attachButton: /** @type {HTMLButtonElement} */ (find('.attach')),
    fileInput: /** @type {HTMLInputElement} */ (find('.file')),
    fileList: /** @type {HTMLElement} */ (find('.files')),
    /** @param {string} [text] */
    showError(text) {
      view.errorBox.textContent = text || '';
    },
    /**
     * A message bubble at the end of the log: USER, ASSISTANT, or a note from the widget.
     * @param {string} role
     * @param {string} text
     */
    bubble(role, text) {
      const el = document.createElement('div');
      el.className = `msg ${role}`;
      el.textContent = text;
      view.log.appendChild(el);
      view.log.scrollTop = view.log.scrollHeight;
      return el;
    },
  };
  if (cfg.title) view.title.textContent = cfg.title;
  return view;
}

/** @typedef {ReturnType<typeof createView>} WidgetView */
