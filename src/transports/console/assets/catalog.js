// What the page needs to know about scopes and permissions: the engine's own
// catalog (src/authz/catalog.cc), served by GET /console/catalog and loaded
// once at start (loadCatalog), so the choices and labels here cannot drift
// from the server. Decisions are always the server's: this file only offers
// choices and labels, and picks which role a fix would give.

// [{name, about, unlocks}] and [{name, label, domain}], filled by loadCatalog().
export let kScopes = [];
export let kPermissions = [];

export async function loadCatalog() {
  const res = await fetch('/console/catalog', { credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) throw new Error(`The console could not load the permission catalog (${res.status}).`);
  const catalog = await res.json();
  kScopes = catalog.scopes.map((s) => ({ name: s.name, about: s.summary, unlocks: s.unlocks }));
  kPermissions = catalog.permissions.map((p) => ({ name: p.name, label: p.label, domain: p.name.split(':')[0] }));
}

export function permissionLabel(name) {
  const p = kPermissions.find((x) => x.name === name);
  return p ? p.label : name;
}

// The permissions grouped by domain, for <optgroup>s and sub-lists.
export function permissionsByDomain() {
  const groups = new Map();
  for (const p of kPermissions) {
    if (!groups.has(p.domain)) groups.set(p.domain, []);
    groups.get(p.domain).push(p);
  }
  return groups;
}

// `a:b:*` covers `a:b:c`; `*` stands for any whole part (docs/api.md §1).
export function covers(pattern, permission) {
  const a = String(pattern).split(':');
  const b = String(permission).split(':');
  if (a.length !== 3 || b.length !== 3) return false;
  return a.every((part, i) => part === '*' || part === b[i]);
}

export function anyCovers(patterns, permission) {
  return (patterns || []).some((p) => covers(p, permission));
}

// How many concrete permissions a role's patterns reach: its "size".
function reach(role) {
  return kPermissions.filter((p) => anyCovers(role.permissions, p.name)).length;
}

// The built-in role that grants `permission` and the least else: the fix the
// console offers for a failing permission layer (fewest concrete permissions,
// then fewest patterns, then name). Null when no built-in role grants it.
export function smallestRoleGranting(roles, permission) {
  const candidates = (roles || []).filter((r) => r.builtin && anyCovers(r.permissions, permission));
  candidates.sort((x, y) => reach(x) - reach(y) || x.permissions.length - y.permissions.length ||
    x.name.localeCompare(y.name));
  return candidates[0] || null;
}
