// @ts-check
/** Credentials: kept in this browser's localStorage only; with npm run dev, the demo ones are offered. */
import { clearErrors, showError } from './api.js';
import { clearOrganizationView } from './conversation.js';
import { $, button, form, input } from './dom.js';
import { loadPersonas } from './personas.js';
import { loadSessions } from './sessions.js';
import { state } from './state.js';

const STORE = 'conversations-playground.credentials';

/** @returns {import('./state.js').Credentials | null} */
function loadCreds() {
  try {
    const c = JSON.parse(localStorage.getItem(STORE) || 'null');
    return c?.apiKey && c.organizationId ? c : null;
  } catch {
    return null;
  }
}

/**
 * Fills the form with these credentials, keeps them and connects.
 * @param {import('./state.js').Credentials} c
 * @param {string} [note]
 */
function useCreds(c, note) {
  input('api-key').value = c.apiKey;
  input('org-id').value = c.organizationId;
  state.creds = { apiKey: c.apiKey.trim(), organizationId: c.organizationId.trim() };
  localStorage.setItem(STORE, JSON.stringify(state.creds));
  $('creds-note').textContent = note || '';
  $('creds-note').hidden = !note;
  return connect();
}

async function connect() {
  clearErrors();
  // Nothing of the previous credentials' organization may stay on screen, whether or not these work.
  clearOrganizationView();
  $('conn').textContent = 'Connecting\u2026';
  try {
    await Promise.all([loadPersonas(), loadSessions()]);
    $('conn').textContent = `Connected to organization ${state.creds?.organizationId}`;
  } catch (e) {
    $('conn').textContent = 'Not connected';
    showError('creds', e);
  }
}

/**
 * Dev only: npm run dev serves its demo credentials at /playground/demo.json (404 everywhere else);
 * 503 while it is still creating them on a first start.
 * @param {number} tries
 * @returns {Promise<import('./state.js').Credentials | null>}
 */
async function demoCredentials(tries) {
  for (let i = 0; i < tries; i++) {
    const res = await fetch('/playground/demo.json', { cache: 'no-store' }).catch(() => null);
    if (res?.ok) return res.json();
    if (res?.status !== 503) return null;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return null;
}

export function initCredentials() {
  form('creds-form').addEventListener('submit', (e) => {
    e.preventDefault();
    useCreds({ apiKey: input('api-key').value, organizationId: input('org-id').value });
  });
  button('show-key').addEventListener('click', () => {
    const show = input('api-key').type === 'password';
    input('api-key').type = show ? 'text' : 'password';
    button('show-key').setAttribute('aria-pressed', String(show));
  });
  button('forget').addEventListener('click', () => {
    localStorage.removeItem(STORE);
    state.creds = null;
    input('api-key').value = '';
    input('org-id').value = '';
    $('conn').textContent = 'Not connected';
    $('creds-note').hidden = true;
  });
}

/** Start: saved credentials first; with npm run dev, the demo ones fill in when nothing is saved. */
export async function startCredentials() {
  const saved = loadCreds();
  if (saved) useCreds(saved);
  // The server marks the page (data-demo="1") only where /playground/demo.json exists.
  const demo = document.body.dataset.demo && (await demoCredentials(saved ? 1 : 60));
  if (!demo) return;
  const note = 'Demo credentials from npm run dev.';
  button('use-demo').hidden = false;
  button('use-demo').onclick = () => useCreds(demo, note);
  if (!saved) useCreds(demo, note);
}
