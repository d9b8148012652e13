// Roles: every role with the permissions it grants. Built-in roles are
// read-only (stable ids, docs/api.md §1); custom ones can be created, edited
// and deleted here, within the viewer's own authority (the server's
// delegation ceiling says no otherwise, with the fix).

import { h, fill, chips, badge, empty, uid } from '../dom.js';
import { api, seg } from '../api.js';
import { kPermissions } from '../catalog.js';
import { can } from '../session.js';
import { loadInto, pageTitle, field, checkboxGroup, runAction, announce, creator, confirmStep,
  disabledWithReason } from '../ui.js';


// Checkbox items: every concrete permission by domain, then the role's own
// patterns the catalog does not list (wildcards), so an edit keeps them.
function permissionItems(checked) {
  const items = kPermissions.map((p) => ({ value: p.name, label: p.name, description: p.label,
    checked: checked.includes(p.name), group: p.domain }));
  const known = new Set(kPermissions.map((p) => p.name));
  for (const p of checked.filter((x) => !known.has(x)))
    items.push({ value: p, label: p, checked: true, group: 'patterns', description: 'wildcard pattern' });
  return items;
}

// The create / edit form. onSubmit({name, description, permissions}) does the request.
function roleForm({ role, heading, submitLabel, onSubmit, onCancel }) {
  const name = h('input', { type: 'text', required: true, maxlength: '128', autocomplete: 'off', value: role ? role.name : '' });
  const description = h('input', { type: 'text', maxlength: '1024', autocomplete: 'off',
    value: role ? role.description || '' : '' });
  const perms = checkboxGroup('Permissions', permissionItems(role ? role.permissions : []), { mono: true });
  const extra = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const errors = h('div', {});
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const cancel = onCancel ? h('button', { type: 'button', class: 'btn', onClick: onCancel }, 'Cancel') : null;
  const form = h('form', { class: role ? 'form' : 'card form', novalidate: true },
    heading ? h('h2', {}, heading) : null,
    h('div', { class: 'form-grid' }, field('Name', name), field('Description', description, 'Optional.')),
    perms.el,
    field('Other permissions', extra, 'Optional: space-separated patterns such as recording:*:* — a * stands for a whole part.'),
    errors, h('div', { class: 'actions' }, submit, cancel));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    runAction(submit, errors, async () => {
      const permissions = [...new Set([...perms.values(), ...extra.value.split(/\s+/).filter(Boolean)])];
      await onSubmit({ name: name.value.trim(), description: description.value.trim(), permissions });
    });
  });
  return { form, focus: () => name.focus() };
}

function roleCard(role, rights, reload) {
  const headingId = uid('role');
  const editSlot = h('div', {});
  const body = h('div', {});
  const card = h('li', { class: 'card role-card' },
    h('section', { 'aria-labelledby': headingId },
      h('div', { class: 'role-head' }, h('h2', { id: headingId }, role.name),
        role.builtin ? [badge('Built-in', 'info'), ' ', badge('read-only', 'muted')] : badge('Custom', 'neutral')),
      body, editSlot));
  const showView = () => {
    fill(body,
      role.description ? h('p', {}, role.description) : null,
      h('h3', { class: 'small-heading' }, 'Permissions'), chips(role.permissions, 'none'),
      role.builtin ? null : actions());
  };
  const actions = () => {
    const edit = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false' }, 'Edit',
      h('span', { class: 'visually-hidden' }, ` role ${role.name}`));
    edit.addEventListener('click', () => {
      const built = roleForm({ role, submitLabel: 'Save role', onCancel: () => { fill(editSlot); showView(); edit.focus(); },
        onSubmit: async (values) => {
          const body2 = { name: values.name, description: values.description, permissions: values.permissions };
          const updated = await api.put(`/api/v2/authorization/roles/${seg(role.id)}`, body2);
          announce(`Role ${updated.name} saved.`);
          reload();
        } });
      fill(body);
      fill(editSlot, built.form);
      built.focus();
    });
    const del = confirmStep({
      label: 'Delete',
      hiddenSuffix: ` role ${role.name}`,
      question: `Delete the role ${role.name}? Clients and users that hold it lose its permissions at their next request.`,
      confirmLabel: 'Confirm delete',
      disabledReason: rights.del ? '' : 'You lack authorization:role:delete.',
      onConfirm: async () => {
        await api.del(`/api/v2/authorization/roles/${seg(role.id)}`);
        announce(`Role ${role.name} deleted.`);
        reload();
      },
    });
    return h('div', { class: 'role-actions' }, rights.edit ? edit : disabledWithReason(edit, 'You lack authorization:role:edit.'), del);
  };
  showView();
  return card;
}

function renderList(data, reload) {
  const roles = [...(data.roles.entities || [])].sort((a, b) => (b.builtin - a.builtin) || a.name.localeCompare(b.name));
  if (roles.length === 0) return empty('No roles.');
  return h('ul', { class: 'role-grid' }, roles.map((r) => roleCard(r, data.rights, reload)));
}

export function renderRoles({ container }) {
  const list = h('div', {});
  const reload = () => loadInto(list, async () => {
    const [roles, edit, del] = await Promise.all([api.get('/api/v2/authorization/roles'),
      can('authorization:role:edit'), can('authorization:role:delete')]);
    return { roles, rights: { edit, del } };
  }, (data) => renderList(data, reload));
  const { toggle, formSlot, createdSlot } = creator('New role', (onCreated) => roleForm({
    heading: 'New role', submitLabel: 'Create role',
    onSubmit: async (values) => {
      const body = { name: values.name, permissions: values.permissions };
      if (values.description) body.description = values.description;
      onCreated(await api.post('/api/v2/authorization/roles', body));
    },
  }), (role) => {
    announce(`Role ${role.name} created.`);
    reload();
    const heading = h('h2', { tabindex: '-1' }, `Role "${role.name}" created`);
    return { heading, panel: h('div', { class: 'card card-success' }, heading, chips(role.permissions)) };
  });
  fill(container, pageTitle('Roles', h('div', { class: 'title-actions' }, toggle)),
    h('p', { class: 'lede' }, 'A role is a named set of permissions. What a principal may do is its roles ∩ its token\'s scopes.'),
    formSlot, createdSlot, h('section', { 'aria-label': 'All roles' }, list));
  reload();
}
