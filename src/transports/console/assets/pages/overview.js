// Overview: the latest denials with their fix (the first thing an
// administrator needs when "it stopped working"), and how much there is of
// each thing. Every region loads on its own; a slow one blocks nothing.

import { h, fill, time, code, badge, chips, tags, hashFor, empty } from '../dom.js';
import { api } from '../api.js';
import { can, me } from '../session.js';
import { loadInto, pageTitle } from '../ui.js';

// "client:<id>" / "user:<id>": how the explorer names a principal in its URL.
function principalKey(actor) {
  if (!actor || !actor.id || (actor.type !== 'client' && actor.type !== 'user')) return '';
  return `${actor.type}:${actor.id}`;
}

// The explorer, pre-filled with the question an audit event asked.
export function explorerHashFor(event) {
  const expl = event.explanation || {};
  const principal = principalKey(event.principal) || principalKey(expl.principal);
  return hashFor('/explorer', { principal, action: event.action || expl.action, conversation: event.conversationId });
}

function who(actor) {
  if (!actor || !actor.name) return h('span', { class: 'muted' }, 'unknown caller (no valid token)');
  return [h('strong', {}, actor.name), ' ', h('span', { class: 'muted' }, `(${actor.type || 'principal'})`)];
}

function denialItem(event) {
  const expl = event.explanation || {};
  const fixes = Array.isArray(expl.fix) ? expl.fix : [];
  const explain = h('button', { type: 'button', class: 'btn btn-small' }, 'Explain in permission explorer');
  explain.addEventListener('click', () => { window.location.hash = explorerHashFor(event); });
  return h('li', { class: 'denial card' },
    h('div', { class: 'denial-head' },
      h('h3', {}, badge('deny', 'bad'), ' ', code(event.code || 'denied')),
      time(event.at)),
    h('p', { class: 'denial-who' }, who(event.principal), ' → ',
      event.action ? code(event.action) : h('span', { class: 'muted' }, 'no action'),
      event.resource ? [' on ', code(event.resource)] : null),
    h('p', { class: 'denial-request muted' }, `${event.method || ''} ${event.path || ''}`.trim(), ` · ${event.status || ''}`),
    expl.message ? h('p', { class: 'denial-message' }, expl.message) : null,
    event.aggregate ? h('p', { class: 'muted' }, `One of ${event.aggregate.count} similar denials from this address.`) : null,
    fixes.length ? h('div', { class: 'fix' }, h('p', { class: 'fix-title' }, 'Fix'),
      h('ul', {}, fixes.map((f) => h('li', {}, f)))) : null,
    h('div', { class: 'actions' }, explain));
}

function renderDenials(page) {
  const events = (page.entities || []).slice(0, 10);
  if (events.length === 0)
    return empty('No denials recorded.', 'Every request in the audit log so far was allowed.');
  return [h('ol', { class: 'denials' }, events.map(denialItem)),
    h('p', {}, h('a', { href: hashFor('/audit', { decision: 'deny' }) }, 'All denials in the audit log'))];
}

// A count card: loads its number and links to its page. A viewer who may not
// list the things gets a note instead of a request bound to be refused (and
// audited as a denial).
function countCard(title, href, permission, load) {
  const value = h('div', { class: 'stat-value' });
  loadInto(value, async () => ((await can(permission)) ? load() : null),
    (n) => (n === null ? h('span', { class: 'stat-none' }, `You lack ${permission}.`) : h('span', {}, String(n))));
  return h('li', { class: 'stat card' }, h('a', { href, class: 'stat-link' }, title), value);
}

function accessCard() {
  const body = h('div', {});
  loadInto(body, () => me(), (info) => {
    const perms = info.effectivePermissions || [];
    return [h('dl', { class: 'facts' },
      h('dt', {}, 'Signed in as'), h('dd', {}, info.principal ? info.principal.name : ''),
      h('dt', {}, 'Through client'), h('dd', {}, info.client ? info.client.name : ''),
      h('dt', {}, 'Roles'), h('dd', {}, tags((info.roles || []).map((r) => r.name))),
      h('dt', {}, 'Token scopes'), h('dd', {}, chips(info.scopes)),
      h('dt', {}, 'Token expires'), h('dd', {}, time(info.expiresAt))),
    h('details', { class: 'disclosure' }, h('summary', {}, `${perms.length} effective permissions`), chips(perms))];
  });
  return h('section', { class: 'card', 'aria-labelledby': 'access-h' }, h('h2', { id: 'access-h' }, 'Your access'), body);
}

export function renderOverview({ container }) {
  const denials = h('div', {});
  fill(container,
    pageTitle('Overview'),
    h('section', { 'aria-labelledby': 'counts-h' },
      h('h2', { id: 'counts-h', class: 'visually-hidden' }, 'At a glance'),
      h('ul', { class: 'stats' },
        countCard('Clients', '#/clients', 'oauth:client:view', async () => (await api.get('/api/v2/oauth/clients')).total),
        countCard('Users', '#/users', 'directory:user:view', async () => (await api.get('/api/v2/users')).total),
        countCard('Roles', '#/roles', 'authorization:role:view',
          async () => (await api.get('/api/v2/authorization/roles')).total),
        countCard('Conversations', '#/conversations', 'conversation:conversation:view', async () => {
          const page = await api.get('/api/v2/conversations?pageSize=100');
          const n = (page.entities || []).length;
          return n === 100 ? '100+' : n;
        }))),
    h('div', { class: 'columns' },
      h('section', { 'aria-labelledby': 'denials-h', class: 'grow' },
        h('h2', { id: 'denials-h' }, 'Recent denials'), denials),
      accessCard()));
  loadInto(denials, () => api.get('/api/v2/audit/events?decision=deny&pageSize=10'), renderDenials);
}
