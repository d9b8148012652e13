// One client: its facts, its scopes, roles and enabled flag (saved together),
// what it can effectively do, and the destructive actions behind a confirm step.

import { h, fill, time, code, chips, facts, hashFor } from '../dom.js';
import { api, seg } from '../api.js';
import { can, session } from '../session.js';
import { setTitle } from '../router.js';
import { loadInto, pageTitle, checkboxGroup, checkbox, runAction, secretOnce, confirmStep, announce, flash,
  disabledWithReason } from '../ui.js';
import { roleItems, scopeItems, enabledBadge, loadRoleChoices } from './clients.js';
import { effectiveAccessView } from './access.js';

function sameSet(a, b) {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function summary(c) {
  return facts([
    ['Client id', code(c.id)],
    ['Type', c.clientType || 'confidential'],
    ['Status', enabledBadge(c.enabled)],
    c.description ? ['Description', c.description] : null,
    ['Grant types', chips(c.allowedGrantTypes)],
    (c.redirectUris || []).length ? ['Redirect URIs', chips(c.redirectUris)] : null,
    ['Token lifetime', `${c.accessTokenValiditySeconds} s`],
    ['Created', time(c.dateCreated)],
    ['Changed', time(c.dateModified)],
    c.tokensValidAfter ? ['Tokens refused before', [time(c.tokensValidAfter),
      c.tokensValidAfterReason ? ` (${c.tokensValidAfterReason})` : '']] : null,
  ]);
}

// Scopes, roles ({roles, hint} of loadRoleChoices) and Enabled, saved with one
// PATCH of what changed (c is kept current by the caller, so a second save
// compares with the first one's result).
function accessForm(c, roles, mayEdit, onSaved) {
  const roleIds = () => (c.roles || []).map((r) => r.id);
  const scopes = checkboxGroup('Allowed scopes', scopeItems(c.allowedScopes || []), { mono: true });
  const roleBoxes = checkboxGroup('Roles', roleItems(roles.roles, roleIds()), { hint: roles.hint });
  const enabled = checkbox('Enabled', { checked: c.enabled,
    description: 'A disabled client gets no tokens, and the tokens it has are refused.' });
  const errors = h('div', {});
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save changes');
  const form = h('form', { class: 'form', novalidate: true }, scopes.el, roleBoxes.el,
    h('div', { class: 'field' }, enabled.el), errors,
    h('div', { class: 'actions' }, mayEdit ? save : disabledWithReason(save, 'You lack oauth:client:edit.')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    runAction(save, errors, async () => {
      const patch = {};
      if (!sameSet(scopes.values(), c.allowedScopes || [])) patch.allowedScopes = scopes.values();
      if (!sameSet(roleBoxes.values(), roleIds())) patch.roles = roleBoxes.values();
      if (enabled.input.checked !== c.enabled) patch.enabled = enabled.input.checked;
      if (Object.keys(patch).length === 0) { announce('Nothing to save: no change.'); return; }
      const updated = await api.patch(`/api/v2/oauth/clients/${seg(c.id)}`, patch);
      announce(`Changes to ${updated.name} saved.`);
      onSaved(updated);
    });
  });
  return form;
}

function rotateSection(c, mayEdit, onRotated) {
  const shown = h('div', {});
  let reason = '';
  if (c.clientType === 'public') reason = 'A public client has no secret.';
  else if (!mayEdit) reason = 'You lack oauth:client:edit.';
  const step = confirmStep({
    label: 'Rotate secret',
    question: 'A new secret replaces the old one at once, and every token this client was issued is refused. Rotate it?',
    confirmLabel: 'Confirm rotate',
    disabledReason: reason,
    onConfirm: async () => {
      const rotated = await api.post(`/api/v2/oauth/clients/${seg(c.id)}/secret`);
      fill(step.querySelector('.confirm-slot'));
      fill(shown, secretOnce('Client secret', rotated.clientSecret,
        'The new secret is shown only once: copy it now. verbatim keeps only its hash.'));
      announce(`The secret of ${c.name} was rotated.`);
      onRotated(rotated);
    },
  });
  return h('section', { class: 'card', 'aria-labelledby': 'secret-h' },
    h('h2', { id: 'secret-h' }, 'Secret'),
    h('p', { class: 'muted' }, 'The secret is never shown again after it is created; rotate it to get a new one.'),
    step, shown);
}

function dangerSection(c, mayEdit, mayDelete) {
  const revoke = confirmStep({
    label: 'Revoke tokens',
    question: 'Every token issued to this client until now will be refused. It can request new ones. Revoke them?',
    confirmLabel: 'Confirm revoke',
    disabledReason: mayEdit ? '' : 'You lack oauth:client:edit.',
    onConfirm: async () => {
      await api.del(`/api/v2/oauth/clients/${seg(c.id)}/tokens`);
      fill(revoke.querySelector('.confirm-slot'));
      announce(`Every token of ${c.name} issued until now is refused.`);
    },
  });
  const del = confirmStep({
    label: 'Delete client',
    question: `Delete ${c.name}? Its tokens stop working at once. This cannot be undone.`,
    confirmLabel: 'Confirm delete',
    disabledReason: mayDelete ? '' : 'You lack oauth:client:delete.',
    onConfirm: async () => {
      await api.del(`/api/v2/oauth/clients/${seg(c.id)}`);
      flash(`Client ${c.name} deleted.`);
      window.location.hash = '#/clients';
    },
  });
  return h('section', { class: 'card card-danger', 'aria-labelledby': 'danger-h' },
    h('h2', { id: 'danger-h' }, 'Tokens and deletion'), revoke, del);
}

function loadEffective(region, id) {
  return loadInto(region, () => api.post('/api/v2/authorization/effective-access', { principal: id }),
    (access) => effectiveAccessView(access, 'this client'));
}

export function renderClient({ container, params }) {
  const title = pageTitle('Client');
  const body = h('div', {});
  const effective = h('div', {});
  const effectiveSection = h('section', { class: 'card', 'aria-labelledby': 'eff-h' },
    h('h2', { id: 'eff-h' }, 'Effective permissions'), effective);
  fill(container, h('p', { class: 'crumbs' }, h('a', { href: '#/clients' }, 'Clients')), title, body);
  const id = params.id;
  const load = async () => {
    const [client, mayEdit, mayDelete] = await Promise.all([
      api.get(`/api/v2/oauth/clients/${seg(id)}`), can('oauth:client:edit'), can('oauth:client:delete')]);
    return { client, roles: await loadRoleChoices(client.roles), mayEdit, mayDelete };
  };
  const show = ({ client, roles, mayEdit, mayDelete }) => {
    title.querySelector('h1').textContent = client.name;
    setTitle(client.name);
    const summaryBox = h('div', {}, summary(client));
    const refresh = (updated) => {
      fill(summaryBox, summary(updated));
      loadEffective(effective, id);
    };
    const own = session() && client.id === session().clientId;
    return [
      own ? h('p', { class: 'note' }, 'This is the console\'s own client: its allowed scopes bound what every console '
        + 'sign-in may do, and disabling or deleting it closes the console for everyone.') : null,
      h('section', { class: 'card', 'aria-label': 'Details' }, summaryBox,
        h('p', {}, h('a', { href: hashFor('/explorer', { principal: `client:${client.id}` }) },
          'Ask the permission explorer about this client'))),
      h('section', { class: 'card', 'aria-labelledby': 'access-h' }, h('h2', { id: 'access-h' }, 'Scopes and roles'),
        accessForm(client, roles, mayEdit, (updated) => { Object.assign(client, updated); refresh(updated); })),
      effectiveSection,
      rotateSection(client, mayEdit, (rotated) => refresh(rotated)),
      dangerSection(client, mayEdit, mayDelete),
    ];
  };
  loadInto(body, load, show);
  loadEffective(effective, id);  // in parallel; its section is placed after the form once the client is shown
}
