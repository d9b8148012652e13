// One user: profile, roles and Enabled (saved together), what the user can
// effectively do when signed in through the console, a password reset shown
// once, and deletion behind a confirm step.

import { h, fill, time, code, facts, hashFor } from '../dom.js';
import { api, seg } from '../api.js';
import { can, session } from '../session.js';
import { setTitle } from '../router.js';
import { loadInto, pageTitle, field, checkboxGroup, checkbox, runAction, secretOnce, confirmStep, announce, flash,
  disabledWithReason } from '../ui.js';
import { roleItems, enabledBadge, loadRoleChoices } from './clients.js';
import { effectiveAccessView } from './access.js';

function sameSet(a, b) {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function summary(u) {
  return facts([
    ['User id', code(u.id)],
    ['Status', enabledBadge(u.enabled)],
    ['Created', time(u.dateCreated)],
    ['Changed', time(u.dateModified)],
    u.tokensValidAfter ? ['Tokens refused before', [time(u.tokensValidAfter),
      u.tokensValidAfterReason ? ` (${u.tokensValidAfterReason})` : '']] : null,
  ]);
}

// Profile, roles ({roles, hint} of loadRoleChoices) and Enabled, saved with one
// PATCH of what changed (u is kept current by the caller).
function profileForm(u, roles, mayEdit, onSaved) {
  const roleIds = () => (u.roles || []).map((r) => r.id);
  const username = h('input', { type: 'text', value: u.username, maxlength: '64', autocomplete: 'off',
    autocapitalize: 'none', spellcheck: 'false' });
  const displayName = h('input', { type: 'text', value: u.displayName || '', maxlength: '128', autocomplete: 'off' });
  const email = h('input', { type: 'email', value: u.email || '', maxlength: '254', autocomplete: 'off' });
  const roleBoxes = checkboxGroup('Roles', roleItems(roles.roles, roleIds()), { hint: roles.hint });
  const enabled = checkbox('Enabled', { checked: u.enabled,
    description: 'A disabled user cannot sign in, and the tokens it has are refused.' });
  const errors = h('div', {});
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save changes');
  const form = h('form', { class: 'form', novalidate: true },
    h('div', { class: 'form-grid' }, field('Username', username), field('Display name', displayName), field('Email', email)),
    roleBoxes.el, h('div', { class: 'field' }, enabled.el), errors,
    h('div', { class: 'actions' }, mayEdit ? save : disabledWithReason(save, 'You lack directory:user:edit.')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    runAction(save, errors, async () => {
      const patch = {};
      if (username.value.trim() !== u.username) patch.username = username.value.trim();
      if (displayName.value.trim() !== (u.displayName || '')) patch.displayName = displayName.value.trim();
      if (email.value.trim() !== (u.email || '')) patch.email = email.value.trim();
      if (!sameSet(roleBoxes.values(), roleIds())) patch.roles = roleBoxes.values();
      if (enabled.input.checked !== u.enabled) patch.enabled = enabled.input.checked;
      if (Object.keys(patch).length === 0) { announce('Nothing to save: no change.'); return; }
      const updated = await api.patch(`/api/v2/users/${seg(u.id)}`, patch);
      announce(`Changes to ${updated.username} saved.`);
      onSaved(updated);
    });
  });
  return form;
}

function passwordSection(u, mayEdit, onReset) {
  const shown = h('div', {});
  const step = confirmStep({
    label: 'Reset password',
    question: `verbatim generates a new password for ${u.username}; the old one and every token the user holds stop working. Reset it?`,
    confirmLabel: 'Confirm reset',
    disabledReason: mayEdit ? '' : 'You lack directory:user:edit.',
    onConfirm: async () => {
      const updated = await api.post(`/api/v2/users/${seg(u.id)}/password`);
      fill(step.querySelector('.confirm-slot'));
      fill(shown, secretOnce('New password', updated.password,
        'The password is shown only once: hand it over now. verbatim keeps only its hash.'));
      announce(`The password of ${u.username} was reset.`);
      onReset(updated);
    },
  });
  return h('section', { class: 'card', 'aria-labelledby': 'pw-h' }, h('h2', { id: 'pw-h' }, 'Password'), step, shown);
}

function dangerSection(u, mayEdit, mayDelete) {
  const revoke = confirmStep({
    label: 'Revoke tokens',
    question: `Every token ${u.username} holds will be refused; the user signs in again. Revoke them?`,
    confirmLabel: 'Confirm revoke',
    disabledReason: mayEdit ? '' : 'You lack directory:user:edit.',
    onConfirm: async () => {
      await api.del(`/api/v2/users/${seg(u.id)}/tokens`);
      fill(revoke.querySelector('.confirm-slot'));
      announce(`Every token of ${u.username} issued until now is refused.`);
    },
  });
  const del = confirmStep({
    label: 'Delete user',
    question: `Delete ${u.username}? The user can no longer sign in and its tokens stop working. This cannot be undone.`,
    confirmLabel: 'Confirm delete',
    disabledReason: mayDelete ? '' : 'You lack directory:user:delete.',
    onConfirm: async () => {
      await api.del(`/api/v2/users/${seg(u.id)}`);
      flash(`User ${u.username} deleted.`);
      window.location.hash = '#/users';
    },
  });
  return h('section', { class: 'card card-danger', 'aria-labelledby': 'danger-h' },
    h('h2', { id: 'danger-h' }, 'Tokens and deletion'), revoke, del);
}

// A user has no scopes of its own: its tokens carry those of the client it
// signs in through, here the console's (the server's default for a user principal).
async function userAccess(u) {
  const [access, via] = await Promise.all([
    api.post('/api/v2/authorization/effective-access', { principal: { userId: u.id } }),
    api.get(`/api/v2/oauth/clients/${seg(session().clientId)}`),
  ]);
  return { access, via };
}

function loadEffective(region, u) {
  return loadInto(region, () => userAccess(u),
    ({ access, via }) => effectiveAccessView(access, `${u.username}, signed in through ${via.name},`));
}

export function renderUser({ container, params }) {
  const title = pageTitle('User');
  const body = h('div', {});
  const effective = h('div', {});
  const effectiveSection = h('section', { class: 'card', 'aria-labelledby': 'eff-h' },
    h('h2', { id: 'eff-h' }, 'Effective permissions'), effective);
  fill(container, h('p', { class: 'crumbs' }, h('a', { href: '#/users' }, 'Users')), title, body);
  const load = async () => {
    const [user, mayEdit, mayDelete] = await Promise.all([
      api.get(`/api/v2/users/${seg(params.id)}`), can('directory:user:edit'), can('directory:user:delete')]);
    return { user, roles: await loadRoleChoices(user.roles), mayEdit, mayDelete };
  };
  const show = ({ user, roles, mayEdit, mayDelete }) => {
    title.querySelector('h1').textContent = user.username;
    setTitle(user.username);
    const summaryBox = h('div', {}, summary(user));
    const refresh = (updated) => {
      Object.assign(user, updated);
      fill(summaryBox, summary(user));
      title.querySelector('h1').textContent = user.username;
      loadEffective(effective, user);
    };
    loadEffective(effective, user);
    return [
      h('section', { class: 'card', 'aria-label': 'Details' }, summaryBox,
        h('p', {}, h('a', { href: hashFor('/explorer', { principal: `user:${user.id}` }) },
          'Ask the permission explorer about this user'))),
      h('section', { class: 'card', 'aria-labelledby': 'profile-h' }, h('h2', { id: 'profile-h' }, 'Profile and roles'),
        profileForm(user, roles, mayEdit, refresh)),
      effectiveSection,
      passwordSection(user, mayEdit, refresh),
      dangerSection(user, mayEdit, mayDelete),
    ];
  };
  loadInto(body, load, show);
}
