// Clients: the table of OAuth clients and the form that creates one. The
// secret of a new client is shown here once, with its id.

import { h, fill, badge, chips, tags, table, empty, uid } from '../dom.js';
import { api, seg } from '../api.js';
import { kScopes } from '../catalog.js';
import { loadInto, pageTitle, field, checkboxGroup, runAction, secretOnce, announce, creator } from '../ui.js';

// Roles as checkbox items (value = id, label = name), built-in ones first.
export function roleItems(roles, checkedIds = []) {
  const sorted = [...roles].sort((a, b) => (b.builtin - a.builtin) || a.name.localeCompare(b.name));
  const kind = (r) => (r.builtin === undefined ? undefined : r.builtin ? 'built-in' : 'custom');
  return sorted.map((r) => ({ value: r.id, label: r.name, checked: checkedIds.includes(r.id), description: kind(r) }));
}

// Every role for a detail page's Roles fieldset; when the viewer may not list
// roles, the principal's own (so a save keeps them) and why the rest is missing.
export async function loadRoleChoices(own) {
  try {
    return { roles: (await api.get('/api/v2/authorization/roles')).entities || [], hint: '' };
  } catch (err) {
    return { roles: (own || []).map((r) => ({ id: r.id, name: r.name || r.id })),
      hint: `Only its current roles are shown: the list of roles could not be loaded (${err.message})` };
  }
}

export function scopeItems(checked = []) {
  return kScopes.map((s) => ({ value: s.name, label: s.name, description: s.about, checked: checked.includes(s.name) }));
}

// A value with an accessible name that is not a secret (a new client's id).
export function labelledValue(labelText, value) {
  const id = uid('val');
  return h('div', { class: 'secret' }, h('label', { for: id, class: 'secret-label' }, labelText),
    h('div', { class: 'secret-row' }, h('output', { id, class: 'secret-value' }, value)));
}

export function enabledBadge(enabled) {
  return enabled ? badge('Enabled', 'good') : badge('Disabled', 'muted');
}

function clientRow(c) {
  return h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/clients/${seg(c.id)}` }, c.name)),
    h('td', {}, c.clientType || 'confidential'),
    h('td', {}, chips(c.allowedScopes)),
    h('td', {}, tags((c.roles || []).map((r) => r.name || r.id))),
    h('td', {}, enabledBadge(c.enabled)));
}

function renderTable(list) {
  const clients = [...(list.entities || [])].sort((a, b) => a.name.localeCompare(b.name));
  if (clients.length === 0) return empty('No clients yet.', 'Create one with "New client".');
  return table(`Clients (${clients.length})`, ['Name', 'Type', 'Allowed scopes', 'Roles', 'Enabled'],
    clients.map(clientRow), { captionHidden: true });
}

// The panel shown after creation: the id, and the secret once.
function createdPanel(client) {
  const heading = h('h2', { tabindex: '-1', id: uid('created') }, `Client "${client.name}" created`);
  const panel = h('section', { class: 'card card-success', 'aria-labelledby': heading.id }, heading,
    labelledValue('Client id', client.id),
    client.clientSecret
      ? secretOnce('Client secret', client.clientSecret,
        'The secret is shown only once: copy it now. verbatim keeps only its hash; if it is lost, rotate it.')
      : h('p', {}, 'A public client has no secret: it signs people in with the authorization code flow and PKCE.'),
    h('p', {}, h('a', { href: `#/clients/${seg(client.id)}` }, `Open ${client.name}`)));
  return { panel, heading };
}

function newClientForm(onCreated) {
  const name = h('input', { type: 'text', required: true, maxlength: '128', autocomplete: 'off' });
  const description = h('input', { type: 'text', maxlength: '1024', autocomplete: 'off' });
  const type = h('select', {}, h('option', { value: 'confidential' }, 'confidential'),
    h('option', { value: 'public' }, 'public'));
  const redirects = h('textarea', { rows: '2', spellcheck: 'false' });
  const scopes = checkboxGroup('Allowed scopes', scopeItems(), { mono: true });
  const rolesSlot = h('div', {});
  let roles = { values: () => [] };
  loadInto(rolesSlot, () => api.get('/api/v2/authorization/roles'), (list) => {
    roles = checkboxGroup('Roles', roleItems(list.entities || []));
    return roles.el;
  });
  const errors = h('div', {});
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create client');
  const form = h('form', { class: 'card form', novalidate: true },
    h('h2', {}, 'New client'),
    h('div', { class: 'form-grid' },
      field('Name', name),
      field('Description', description, 'Optional.'),
      field('Client type', type, 'Confidential clients get a secret; public ones (browser or native apps) sign people in with PKCE.'),
      field('Redirect URIs', redirects, 'One per line; needed for a public client. https, or http on a loopback address.')),
    scopes.el, rolesSlot, errors,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    runAction(submit, errors, async () => {
      const body = { name: name.value.trim(), allowedScopes: scopes.values(), roles: roles.values(),
        clientType: type.value };
      if (description.value.trim()) body.description = description.value.trim();
      const uris = redirects.value.split(/\s+/).filter(Boolean);
      if (uris.length) body.redirectUris = uris;
      const created = await api.post('/api/v2/oauth/clients', body);
      onCreated(created);
    });
  });
  return { form, focus: () => name.focus() };
}

export function renderClients({ container }) {
  const tableRegion = h('div', {});
  const reload = () => loadInto(tableRegion, () => api.get('/api/v2/oauth/clients'), renderTable);
  const { toggle, formSlot, createdSlot } = creator('New client', newClientForm, (item) => {
    announce(`Client ${item.name} created.`);
    reload();
    return createdPanel(item);
  });
  fill(container, pageTitle('Clients', h('div', { class: 'title-actions' }, toggle)),
    h('p', { class: 'lede' }, 'Applications that call verbatim. A client acts with its roles, within the scopes its tokens carry.'),
    formSlot, createdSlot,
    h('section', { 'aria-label': 'All clients' }, tableRegion));
  reload();
}
