// "Apply fix" for the permission explorer: from a denial's explanation, the
// change that would make it pass, as a button the viewer may press when their
// own access covers the edit. A failing scope layer is fixed on the client
// (for a user, the client the user signs in through); a failing permission
// layer by giving the smallest built-in role that grants the permission.
// The server's delegation ceiling still judges the edit; a refusal is shown.

import { api, seg } from '../api.js';
import { smallestRoleGranting } from '../catalog.js';
import { firstMissing, me } from '../session.js';

function union(a, b) {
  return [...new Set([...(a || []), ...(b || [])])];
}

async function disabledReason(needed) {
  const missing = await firstMissing(needed);
  return missing ? `You cannot apply this fix: your access lacks ${missing}.` : '';
}

// The scope fix: add the first required scope to the target client's allowedScopes.
async function scopeOffer(principal, layer) {
  const target = principal.type === 'client' ? { id: principal.id, name: principal.name } : principal.viaClient;
  const required = layer.required || [];
  if (!target || !target.id || required.length === 0) return null;
  const reason = await disabledReason(['oauth:client:view', 'oauth:client:edit']);
  if (!reason) {
    // A client that already allows the scope needs a token that asks for it, not an edit.
    const client = await api.get(`/api/v2/oauth/clients/${seg(target.id)}`);
    const allowed = required.find((s) => (client.allowedScopes || []).includes(s));
    if (allowed)
      return { note: `${target.name} already may request ${allowed}: add it to the token scopes and explain again.`, addScope: allowed };
  }
  const scope = required[0];
  return {
    label: `Apply fix: add scope ${scope} to ${target.name}`,
    reason,
    apply: async () => {
      const client = await api.get(`/api/v2/oauth/clients/${seg(target.id)}`);
      await api.patch(`/api/v2/oauth/clients/${seg(target.id)}`, { allowedScopes: union(client.allowedScopes, [scope]) });
      return { message: `Scope ${scope} added to ${target.name}.`, addScope: scope };
    },
  };
}

// The permission fix: give the principal the smallest built-in role granting the permission.
async function permissionOffer(principal, layer) {
  const permission = (layer.required || [])[0];
  if (!permission || !principal.id) return null;
  const isUser = principal.type === 'user';
  const viewRoles = await disabledReason(['authorization:role:view']);
  if (viewRoles) return { label: `Apply fix: give ${principal.name} a role that grants ${permission}`, reason: viewRoles };
  const roles = (await api.get('/api/v2/authorization/roles')).entities || [];
  const role = smallestRoleGranting(roles, permission);
  if (!role) return null;
  const reason = await disabledReason(isUser ? ['directory:user:view', 'directory:user:edit'] : ['oauth:client:edit']);
  return {
    label: `Apply fix: give role ${role.name} to ${principal.name}`,
    reason,
    apply: async () => {
      if (isUser) {
        const user = await api.get(`/api/v2/users/${seg(principal.id)}`);
        await api.patch(`/api/v2/users/${seg(principal.id)}`, { roles: union((user.roles || []).map((r) => r.id), [role.id]) });
      } else {
        await api.put(`/api/v2/oauth/clients/${seg(principal.id)}/roles/${seg(role.id)}`);
      }
      return { message: `Role ${role.name} given to ${principal.name}.` };
    },
  };
}

// The offers for an explanation: [{label, reason, apply} | {note, addScope}], failing layers in order.
export async function fixOffers(explanation) {
  const principal = explanation && explanation.principal;
  if (!principal || explanation.decision !== 'deny') return [];
  const offers = [];
  for (const layer of explanation.layers || []) {
    if (layer.result !== 'fail') continue;
    if (layer.layer === 'scope') offers.push(await scopeOffer(principal, layer));
    if (layer.layer === 'permission') offers.push(await permissionOffer(principal, layer));
  }
  return offers.filter(Boolean);
}

// After a fix the viewer's own access may have changed (a fix applied to themselves).
export function afterFix() {
  return me({ refresh: true }).catch(() => null);
}
