// Users: the people who sign in, and the form that creates one. A password
// the server generated is shown here once.

import { h, fill, tags, table, empty, uid } from '../dom.js';
import { api, seg } from '../api.js';
import { loadInto, pageTitle, field, checkboxGroup, runAction, secretOnce, announce, creator } from '../ui.js';
import { roleItems, labelledValue, enabledBadge } from './clients.js';

function userRow(u) {
  return h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/users/${seg(u.id)}` }, u.username)),
    h('td', {}, u.displayName || h('span', { class: 'muted' }, '—')),
    h('td', {}, u.email || h('span', { class: 'muted' }, '—')),
    h('td', {}, tags((u.roles || []).map((r) => r.name || r.id))),
    h('td', {}, enabledBadge(u.enabled)));
}

function renderTable(list) {
  const users = list.entities || [];
  if (users.length === 0) return empty('No users yet.', 'Create one with "New user".');
  return table(`Users (${users.length})`, ['Username', 'Display name', 'Email', 'Roles', 'Enabled'],
    users.map(userRow), { captionHidden: true });
}

function createdPanel(user) {
  const heading = h('h2', { tabindex: '-1', id: uid('created') }, `User "${user.username}" created`);
  const panel = h('section', { class: 'card card-success', 'aria-labelledby': heading.id }, heading,
    labelledValue('User id', user.id),
    user.password
      ? secretOnce('Generated password', user.password,
        'The password is shown only once: hand it over now. verbatim keeps only its hash.')
      : h('p', {}, 'The user signs in with the password you chose.'),
    h('p', {}, h('a', { href: `#/users/${seg(user.id)}` }, `Open ${user.username}`)));
  return { panel, heading };
}

function newUserForm(onCreated) {
  const username = h('input', { type: 'text', required: true, maxlength: '64', autocomplete: 'off',
    autocapitalize: 'none', spellcheck: 'false' });
  const displayName = h('input', { type: 'text', maxlength: '128', autocomplete: 'off' });
  const email = h('input', { type: 'email', maxlength: '254', autocomplete: 'off' });
  const password = h('input', { type: 'password', autocomplete: 'new-password' });
  const rolesSlot = h('div', {});
  let roles = { values: () => [] };
  loadInto(rolesSlot, () => api.get('/api/v2/authorization/roles'), (list) => {
    roles = checkboxGroup('Roles', roleItems(list.entities || []));
    return roles.el;
  });
  const errors = h('div', {});
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create user');
  const form = h('form', { class: 'card form', novalidate: true },
    h('h2', {}, 'New user'),
    h('div', { class: 'form-grid' },
      field('Username', username, 'Letters, digits and . _ - @ +; what the person types to sign in.'),
      field('Display name', displayName, 'Optional; shown in the console and the audit log.'),
      field('Email', email, 'Optional.'),
      field('Password', password, 'Optional: at least 12 characters. Leave empty and verbatim generates one, shown once.')),
    rolesSlot, errors, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    runAction(submit, errors, async () => {
      const body = { username: username.value.trim(), roles: roles.values() };
      if (displayName.value.trim()) body.displayName = displayName.value.trim();
      if (email.value.trim()) body.email = email.value.trim();
      if (password.value) body.password = password.value;
      const created = await api.post('/api/v2/users', body);
      onCreated(created);
    });
  });
  return { form, focus: () => username.focus() };
}

export function renderUsers({ container }) {
  const tableRegion = h('div', {});
  const reload = () => loadInto(tableRegion, () => api.get('/api/v2/users'), renderTable);
  const { toggle, formSlot, createdSlot } = creator('New user', newUserForm, (item) => {
    announce(`User ${item.username} created.`);
    reload();
    return createdPanel(item);
  });
  fill(container, pageTitle('Users', h('div', { class: 'title-actions' }, toggle)),
    h('p', { class: 'lede' }, 'People who sign in. A user acts with its roles, within the scopes of the client it signs in through.'),
    formSlot, createdSlot,
    h('section', { 'aria-label': 'All users' }, tableRegion));
  reload();
}
