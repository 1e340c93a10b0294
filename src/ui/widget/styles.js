// @ts-check
/**
 * The widget's markup and styles, inside its shadow root. The styles go in as a constructed
 * stylesheet (adoptedStyleSheets), which a host page's CSP does not block the way it blocks an inline
 * <style> element, so the widget works on pages with a strict style-src too.
 */

/**
 * @param {string} accent a colour already checked against a pattern (never markup)
 * @param {string} onAccent
 * @param {'left' | 'right'} side
 */
export function widgetCss(accent, onAccent, side) {
  return `
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
`;
}

export const WIDGET_MARKUP = `<button class="launch" type="button" aria-expanded="false" aria-controls="panel" aria-label="Open chat"><svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg></button>
<section class="panel" id="panel" role="dialog" aria-modal="false" aria-labelledby="title" hidden>
<header><h2 id="title">Chat</h2><button type="button" class="close" aria-label="Close chat">&times;</button></header>
<div class="log" role="log" aria-live="polite" aria-relevant="additions text" tabindex="0" aria-label="Conversation"></div>
<p class="error" role="alert"></p>
<ul class="files" aria-label="Attached files"></ul>
<form><button type="button" class="attach" aria-label="Attach a file" hidden><svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="none" stroke="currentColor" stroke-width="2" d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"/></svg></button><input type="file" class="file" hidden tabindex="-1">
<label class="sr" for="input">Your message</label><textarea id="input" maxlength="2000" placeholder="Type a message…" disabled></textarea>
<button type="submit" class="send" disabled>Send</button><button type="button" class="stop" hidden>Stop</button></form>
</section>`;

/**
 * Gives the shadow root its styles: a constructed stylesheet where the browser has them, else a
 * <style> element (older browsers, where a strict host-page CSP may then block it).
 * @param {ShadowRoot} root
 * @param {string} css
 */
export function adoptStyles(root, css) {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = css;
    root.prepend(style);
  }
}
