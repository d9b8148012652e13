// What the page needs to know about scopes and permissions. The server's
// catalog (src/authz/catalog.cc) is the source of truth; the API lists roles
// but not the catalog itself, so the scope list and the concrete permissions
// are mirrored here (docs/api.md §1). Decisions are always the server's: this
// file only offers choices and labels, and picks which role a fix would give.

export const kScopes = [
  { name: 'recording:read', about: 'views recordings and downloads their media' },
  { name: 'recording:write', about: 'edits recording metadata' },
  { name: 'recording:control', about: 'starts, stops, pauses and resumes recordings' },
  { name: 'conversation:read', about: 'views conversations' },
  { name: 'conversation:write', about: 'creates and disconnects conversations and edits participants' },
  { name: 'media:ingest', about: 'streams audio into verbatim' },
  { name: 'audit:read', about: 'reads the audit log' },
  { name: 'admin', about: 'administers clients, users, roles, integrations and organization settings' },
];

// Every concrete permission, in the catalog's order, with what it lets one do.
export const kPermissions = [
  ['recording:recording:start', 'start a recording'],
  ['recording:recording:stop', 'stop a recording'],
  ['recording:recording:pause', 'pause a recording'],
  ['recording:recording:resume', 'resume a recording'],
  ['recording:recording:view', 'view a recording'],
  ['recording:recording:edit', 'edit recording metadata'],
  ['recording:media:download', 'download recording media'],
  ['conversation:conversation:view', 'view conversations'],
  ['conversation:conversation:create', 'create a conversation'],
  ['conversation:conversation:disconnect', 'disconnect a conversation'],
  ['conversation:participant:edit', 'edit conversation participants'],
  ['media:stream:ingest', 'stream audio into a conversation'],
  ['audit:event:view', 'read the audit log'],
  ['oauth:client:view', 'view OAuth clients'],
  ['oauth:client:add', 'create OAuth clients'],
  ['oauth:client:edit', 'change OAuth clients'],
  ['oauth:client:delete', 'delete OAuth clients'],
  ['oauth:key:rotate', 'rotate the token signing key'],
  ['oauth:token:introspect', 'introspect tokens issued to other clients'],
  ['oauth:integration:view', 'view media integrations'],
  ['oauth:integration:add', 'create media integrations'],
  ['oauth:integration:delete', 'delete media integrations'],
  ['directory:user:view', 'view users'],
  ['directory:user:add', 'create users'],
  ['directory:user:edit', 'change users, reset their passwords and revoke their tokens'],
  ['directory:user:delete', 'delete users'],
  ['authorization:role:view', 'view roles'],
  ['authorization:role:add', 'create roles'],
  ['authorization:role:edit', 'change roles'],
  ['authorization:role:delete', 'delete roles'],
  ['authorization:decision:simulate', 'simulate authorization decisions for other principals'],
  ['organization:settings:view', 'view organization settings'],
  ['organization:settings:edit', 'change organization settings'],
  ['organization:metrics:view', "read the server's metrics"],
  ['organization:trunk:view', 'view SIPREC trunks'],
  ['organization:trunk:add', 'create SIPREC trunks'],
  ['organization:trunk:edit', 'change SIPREC trunks'],
  ['organization:trunk:delete', 'delete SIPREC trunks'],
].map(([name, label]) => ({ name, label, domain: name.split(':')[0] }));

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
