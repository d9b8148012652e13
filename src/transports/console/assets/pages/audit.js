// Audit: every protected request, newest first, filtered on the server and
// paged by cursor. A row expands to the whole explanation of its decision:
// the message, the four layers and the fix.

import { h, fill, time, code, badge, chips, table, empty, uid } from '../dom.js';
import { api } from '../api.js';
import { loadInto, pageTitle, field } from '../ui.js';
import { explorerHashFor } from './overview.js';

const kPageSize = 50;

function decisionBadge(decision) {
  return decision === 'deny' ? badge('deny', 'bad') : badge(decision || '—', decision === 'allow' ? 'good' : 'neutral');
}

function resultBadge(result) {
  if (result === 'pass') return badge('pass', 'good');
  if (result === 'fail') return badge('fail', 'bad');
  return badge(result || 'not evaluated', 'muted');
}

function layerTable(layers) {
  return table('Explanation layers', ['Layer', 'Result', 'Required', 'Granted', 'Detail'],
    layers.map((l) => h('tr', { class: l.result === 'fail' ? 'row-fail' : null },
      h('th', { scope: 'row' }, l.layer), h('td', {}, resultBadge(l.result)),
      h('td', {}, chips(l.required, '—')),
      h('td', {}, l.grantedBy ? code(l.grantedBy) : chips(l.granted, '—')),
      h('td', {}, l.detail || (l.code ? code(l.code) : '')))));
}

function eventDetails(e, filterByPrincipal) {
  const expl = e.explanation || {};
  const fixes = Array.isArray(expl.fix) ? expl.fix : [];
  const grantedBy = expl.grantedBy;
  return h('div', { class: 'event-details' },
    expl.message ? h('p', { class: 'denial-message' }, expl.message) : null,
    h('dl', { class: 'facts facts-inline' },
      h('dt', {}, 'Context id'), h('dd', {}, code(e.contextId)),
      h('dt', {}, 'Request'), h('dd', {}, code(`${e.method} ${e.path}`)),
      e.clientId ? [h('dt', {}, 'Client id'), h('dd', {}, code(e.clientId))] : null,
      e.clientAddress ? [h('dt', {}, 'Address'), h('dd', {}, code(e.clientAddress))] : null,
      grantedBy ? [h('dt', {}, 'Allowed by'), h('dd', {},
        grantedBy.scope ? ['scope ', code(grantedBy.scope)] : null, grantedBy.scope && grantedBy.role ? ' and ' : null,
        grantedBy.role ? ['role ', code(grantedBy.role)] : null)] : null),
    e.aggregate ? h('p', {}, `Stands for ${e.aggregate.count} denials from ${e.aggregate.address || 'many addresses'} between `,
      time(e.aggregate.firstAt), ' and ', time(e.aggregate.lastAt), '.') : null,
    Array.isArray(expl.layers) && expl.layers.length ? layerTable(expl.layers) : null,
    fixes.length ? h('div', { class: 'fix' }, h('p', { class: 'fix-title' }, 'Fix'),
      h('ul', {}, fixes.map((f) => h('li', {}, f)))) : null,
    h('div', { class: 'actions' },
      e.action ? h('a', { href: explorerHashFor(e) }, 'Explain in permission explorer') : null,
      e.principal && e.principal.id ? h('button', { type: 'button', class: 'btn btn-small',
        onClick: () => filterByPrincipal(e.principal.id) }, 'Show only this principal') : null));
}

// The event's row and its hidden details row, toggled by the Details button.
function eventRows(e, filterByPrincipal) {
  const detailId = uid('ev');
  const detail = h('tr', { id: detailId, class: 'detail-row', hidden: true },
    h('td', { colspan: '8' }, eventDetails(e, filterByPrincipal)));
  const toggle = h('button', { type: 'button', class: 'btn btn-small', 'aria-expanded': 'false', 'aria-controls': detailId },
    'Details');
  toggle.addEventListener('click', () => {
    const open = detail.hidden;
    detail.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  });
  const who = e.principal && e.principal.name ? e.principal.name : h('span', { class: 'muted' }, 'unknown');
  const main = h('tr', {},
    h('td', {}, time(e.at)), h('td', {}, who), h('td', {}, e.action ? code(e.action) : h('span', { class: 'muted' }, '—')),
    h('td', { class: 'cell-wrap' }, e.resource ? code(e.resource) : ''), h('td', {}, decisionBadge(e.decision)),
    h('td', {}, String(e.status)),
    h('td', {}, e.code ? code(e.code) : ''), h('td', {}, toggle));
  return [main, detail];
}

// RFC 3339 from a datetime-local value (read as local time), or ''.
function rfc3339(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function filterForm(initial, onApply) {
  const decision = h('select', {}, ['any', 'allow', 'deny'].map((d) => h('option', { value: d }, d)));
  decision.value = initial.decision === 'allow' || initial.decision === 'deny' ? initial.decision : 'any';
  const principal = h('input', { type: 'text', value: initial.principal || '', autocomplete: 'off', spellcheck: 'false' });
  const conversation = h('input', { type: 'text', value: initial.conversation || '', autocomplete: 'off', spellcheck: 'false' });
  const since = h('input', { type: 'datetime-local', step: '1' });
  const until = h('input', { type: 'datetime-local', step: '1' });
  const form = h('form', { class: 'card filters', role: 'search', 'aria-label': 'Audit filters' },
    h('div', { class: 'filter-grid' },
      field('Decision', decision),
      field('Principal', principal, 'A client or user id ("Show only this principal" in an event\'s details fills it).'),
      field('Conversation', conversation, 'A conversation id.'),
      field('Since', since), field('Until', until)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply filters'),
      h('button', { type: 'reset', class: 'btn' }, 'Clear')));
  const values = () => ({ decision: decision.value === 'any' ? '' : decision.value, principal: principal.value.trim(),
    conversationId: conversation.value.trim(), since: rfc3339(since.value), until: rfc3339(until.value) });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); onApply(values()); });
  form.addEventListener('reset', () => setTimeout(() => onApply(values())));
  const filterByPrincipal = (id) => {
    principal.value = id;
    onApply(values());
    principal.focus();
  };
  return { form, values, filterByPrincipal };
}

export function renderAudit({ container, query }) {
  const region = h('div', {});
  const initial = { decision: query.get('decision'), principal: query.get('principal'), conversation: query.get('conversation') };
  let filters = {};
  let cursor = '';
  let earlier = [];  // the cursors of the pages before this one, for "Previous page"
  const load = () => {
    const q = new URLSearchParams({ pageSize: String(kPageSize) });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (cursor) q.set('cursor', cursor);
    return loadInto(region, () => api.get(`/api/v2/audit/events?${q}`), (page) => {
      const events = page.entities || [];
      const prev = h('button', { type: 'button', class: 'btn', disabled: earlier.length === 0 }, 'Previous page');
      const next = h('button', { type: 'button', class: 'btn', disabled: !page.nextCursor }, 'Next page');
      prev.addEventListener('click', () => { cursor = earlier.pop() || ''; load(); });
      next.addEventListener('click', () => { earlier.push(cursor); cursor = page.nextCursor; load(); });
      return [
        events.length ? table(`Audit events (${events.length} on this page)`,
          ['Time', 'Principal', 'Action', 'Resource', 'Decision', 'Status', 'Code', h('span', { class: 'visually-hidden' }, 'Details')],
          events.flatMap((e) => eventRows(e, filterByPrincipal)), { captionHidden: true })
          : empty('No audit events match these filters.'),
        h('nav', { class: 'pager', 'aria-label': 'Audit pages' },
          prev, h('span', { class: 'muted' }, `Page ${earlier.length + 1}`), next),
      ];
    });
  };
  const { form, values, filterByPrincipal } = filterForm(initial, (v) => { filters = v; cursor = ''; earlier = []; load(); });
  fill(container, pageTitle('Audit'),
    h('p', { class: 'lede' }, 'Every protected request and its decision, newest first. Denials keep their whole explanation.'),
    form, h('section', { 'aria-label': 'Audit events' }, region));
  filters = values();
  load();
}
