// @ts-check
/** Personas: the list, and the form that creates, edits or deletes one. */
import { mutate, query, showError } from './api.js';
import { $, announce, button, form, h, input, select } from './dom.js';
import { state } from './state.js';

export async function loadPersonas() {
  /** @type {import('./state.js').Persona[]} */
  const personas = await query('persona.list', { limit: 100 });
  state.personas = personas;
  const list = $('personas');
  list.replaceChildren(
    ...personas.map((p) =>
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', class: 'pick', onclick: () => editPersona(p), 'aria-label': `Edit persona ${p.name}` },
          h('strong', {}, p.name),
          h(
            'span',
            {},
            `${p.model || 'default model'} \u00b7 v${p.version}${p.description ? ` \u00b7 ${p.description}` : ''}`,
          ),
        ),
      ),
    ),
  );
  if (!personas.length) list.append(h('li', { class: 'muted' }, 'No personas yet: create one.'));
  for (const [id, empty] of [
    ['s-persona', null],
    ['f-persona', 'Any'],
  ]) {
    const menu = select(/** @type {string} */ (id));
    const current = menu.value;
    const options = personas.map((p) => h('option', { value: p.id }, p.name));
    menu.replaceChildren(...(empty ? [h('option', { value: '' }, empty)] : []), ...options);
    if (personas.some((p) => p.id === current)) menu.value = current;
  }
}

/** Persona field → the id of its input. */
const FIELDS = {
  name: 'p-name',
  description: 'p-description',
  instructions: 'p-instructions',
  greeting: 'p-greeting',
  model: 'p-model',
  temperature: 'p-temperature',
  maxOutputTokens: 'p-max',
  avatarUrl: 'p-avatar',
};

/** Opens the form for this persona, or for a new one (null). */
function editPersona(/** @type {import('./state.js').Persona | null} */ p) {
  state.editing = p;
  for (const [k, id] of Object.entries(FIELDS)) {
    const value = p?.[k];
    input(id).value = value !== null && value !== undefined ? String(value) : '';
  }
  $('persona-form-title').textContent = p ? `Edit ${p.name}` : 'New persona';
  $('persona-save').textContent = p ? 'Save changes' : 'Create persona';
  $('persona-delete').hidden = !p;
  $('persona-form').hidden = false;
  input('p-name').focus();
}

/** The form as persona.create / persona.update input: empty optional fields are null. */
function personaInput() {
  /** @type {Record<string, string | number | null>} */
  const out = {};
  for (const [k, id] of Object.entries(FIELDS)) {
    const v = input(id).value.trim();
    if (k === 'name' || k === 'instructions') out[k] = v;
    else if (k === 'temperature' || k === 'maxOutputTokens') out[k] = v === '' ? null : Number(v);
    else out[k] = v === '' ? null : v;
  }
  return out;
}

async function savePersona() {
  const editing = state.editing;
  try {
    const data = personaInput();
    const saved = editing
      ? await mutate('persona.update', { id: editing.id, ...data })
      : await mutate('persona.create', data);
    showError('personas', null);
    $('persona-form').hidden = true;
    await loadPersonas();
    select('s-persona').value = saved.id;
    announce((editing ? 'Saved persona ' : 'Created persona ') + saved.name);
  } catch (err) {
    showError('personas', err);
  }
}

export function initPersonas() {
  button('new-persona').addEventListener('click', () => editPersona(null));
  button('persona-cancel').addEventListener('click', () => {
    $('persona-form').hidden = true;
    button('new-persona').focus();
  });
  form('persona-form').addEventListener('submit', (e) => {
    e.preventDefault();
    savePersona();
  });
  button('persona-delete').addEventListener('click', async () => {
    const editing = state.editing;
    if (!editing || !confirm(`Delete persona ${editing.name}? Its sessions become read-only.`)) return;
    try {
      await mutate('persona.delete', { id: editing.id });
      $('persona-form').hidden = true;
      await loadPersonas();
    } catch (err) {
      showError('personas', err);
    }
  });
}
