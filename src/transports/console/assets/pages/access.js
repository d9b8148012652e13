// The "Effective permissions" view shared by client and user details:
// POST /api/v2/authorization/effective-access answers roles ∩ scopes, and
// which scopes or role permissions are wasted because the other layer lacks them.

import { h, code, chips, empty } from '../dom.js';
import { permissionLabel } from '../catalog.js';

function permissionList(perms) {
  return h('ul', { class: 'perm-list' }, perms.map((p) => h('li', {}, code(p),
    p.includes('*') ? null : h('span', { class: 'muted' }, ` ${permissionLabel(p)}`))));
}

// who: "this client" / "alice (through verbatim console)".
export function effectiveAccessView(access, who) {
  const perms = access.effectivePermissions || [];
  const onlyRoles = access.grantedByRolesButNotByScopes || [];
  const onlyScopes = access.unlockedByScopesButNotByRoles || [];
  const unusable = (access.scopeUse || []).filter((s) => (access.unusableScopes || []).includes(s.scope));
  return [
    h('p', { class: 'muted' }, `What ${who} can do: the permissions of its roles that its scopes also unlock.`),
    perms.length ? permissionList(perms)
      : empty('No effective permissions.', 'No role grants a permission that its scopes unlock.'),
    onlyRoles.length ? h('div', { class: 'gap' },
      h('h3', {}, 'Granted by a role, but no scope unlocks it'), chips(onlyRoles),
      h('p', { class: 'hint' }, 'Add a scope that unlocks these, or they stay unusable.')) : null,
    onlyScopes.length ? h('div', { class: 'gap' },
      h('h3', {}, 'Unlocked by a scope, but no role grants it'), chips(onlyScopes),
      h('p', { class: 'hint' }, 'Give a role that grants these, or they stay unusable.')) : null,
    unusable.length ? h('div', { class: 'gap' },
      h('h3', {}, 'Scopes that give nothing'),
      h('ul', {}, unusable.map((s) => h('li', {}, code(s.scope), s.fix ? ` — ${s.fix}` : '')))) : null,
  ];
}
