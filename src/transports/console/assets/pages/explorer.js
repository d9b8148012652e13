// Permission explorer: ask the server's simulator (POST
// /api/v2/authorization/check) whether a client or user may do an action,
// optionally on a conversation, and show the decision as its pipeline of four
// layers, the fix, and a button that applies the fix when the viewer may.

import { h, fill, append, code, badge, codes, table, uid, hashFor } from '../dom.js';
import { api } from '../api.js';
import { kPermissions, permissionsByDomain, permissionLabel } from '../catalog.js';
import { loadInto, pageTitle, field, runAction, announce, say, errorBox, eachLimited, disabledWithReason } from '../ui.js';
import { fixOffers, afterFix } from './explorer-fix.js';

const kLayerNames = { token: 'Token', scope: 'Scope', permission: 'Permission', resource: 'Resource' };
const kResultWords = { pass: 'pass', fail: 'fail', 'not-evaluated': 'not evaluated' };

// The /authorization/check body for the form's values.
function checkBody(q, action) {
  const [type, id] = q.principal.split(/:(.*)/s);
  const body = { principal: type === 'user' ? { userId: id } : id, action };
  if (q.conversation) body.resource = `conversation/${q.conversation}`;
  if (q.scopes.length) body.scopes = q.scopes;
  return body;
}

function resultBadge(result) {
  const tone = result === 'pass' ? 'good' : result === 'fail' ? 'bad' : 'muted';
  return badge(kResultWords[result] || result, tone);
}

// One layer of the pipeline: what it needed, what there was, and why.
function layerItem(layer, index) {
  const failed = layer.result === 'fail';
  const rows = [];
  // Inline codes, not nested lists: each <li> of the pipeline stays exactly one list item.
  if (layer.required) rows.push(['Required', codes(layer.required, '—')]);
  if (layer.granted) rows.push(['Granted', codes(layer.granted, 'nothing')]);
  if (layer.grantedBy) rows.push(['Granted by', code(layer.grantedBy)]);
  if (layer.grantingRoles) rows.push(['Roles that grant it', codes(layer.grantingRoles, 'none')]);
  if (layer.state) rows.push(['State', code(layer.state)]);
  if (layer.allowedActions) rows.push(['Allowed actions', codes(layer.allowedActions, 'none')]);
  if (layer.code) rows.push(['Code', code(layer.code)]);
  return h('li', { class: `layer layer-${layer.result}`, dataset: { layer: layer.layer, result: layer.result } },
    h('div', { class: 'layer-head' },
      h('span', { class: 'layer-step', 'aria-hidden': 'true' }, String(index + 1)),
      h('span', { class: 'layer-name' }, kLayerNames[layer.layer] || layer.layer),
      resultBadge(layer.result),
      failed ? h('strong', { class: 'layer-failed' }, 'Denied here') : null),
    layer.detail ? h('p', { class: 'layer-detail' }, layer.detail) : null,
    rows.length ? h('dl', { class: 'facts facts-inline' }, rows.map(([t, v]) => [h('dt', {}, t), h('dd', {}, v)])) : null);
}

// The fix texts of the server, then a button per fix the console can apply.
function fixSection(expl, rerun, scopesInput) {
  const fixes = Array.isArray(expl.fix) ? expl.fix : [];
  const offersSlot = h('div', { class: 'fix-offers', 'aria-busy': 'true' });
  const errors = h('div', {});
  fixOffers(expl).then((offers) => {
    fill(offersSlot, offers.map((o) => {
      if (o.note) return h('p', { class: 'hint' }, o.note);
      const button = h('button', { type: 'button', class: 'btn btn-primary' }, o.label);
      if (o.reason || !o.apply) return h('div', {}, disabledWithReason(button, o.reason || 'The console cannot apply this fix.'));
      button.addEventListener('click', () => runAction(button, errors, async () => {
        const done = await o.apply();
        await afterFix();
        if (done.addScope && scopesInput.value.trim() && !scopesInput.value.split(/\s+/).includes(done.addScope))
          scopesInput.value = `${scopesInput.value.trim()} ${done.addScope}`;
        announce(`${done.message} Explaining again…`);
        rerun(`${done.message} Now: `);
      }));
      return h('div', {}, button);
    }));
  }).catch((err) => fill(offersSlot, errorBox(err, 'The fix could not be prepared.')))
    .finally(() => offersSlot.setAttribute('aria-busy', 'false'));
  return h('section', { class: 'fix card', 'aria-labelledby': 'fix-h' },
    h('h3', { id: 'fix-h', class: 'fix-title' }, 'How to fix'),
    fixes.length ? h('ul', {}, fixes.map((f) => h('li', {}, f))) : h('p', {}, 'The server gave no fix.'),
    offersSlot, errors);
}

// The recent changes that caused the denial (docs/changes.md): what was
// there, until when, who removed it, and how to restore it.
function historySection(expl) {
  const notes = Array.isArray(expl.history) ? expl.history : [];
  if (!notes.length) return null;
  const id = uid('hist');
  return h('section', { class: 'history card', 'aria-labelledby': id },
    h('h3', { id, class: 'fix-title' }, 'What changed'),
    h('ul', {}, notes.map((n) => h('li', { dataset: { layer: n.layer, change: String(n.changeId) } },
      h('p', {}, h('time', { datetime: n.at }, n.at), ' · ', code(n.kind), ' · ', n.message),
      n.fix ? h('p', { class: 'muted' }, n.fix) : null))));
}

function resultView(answer, rerun, scopesInput) {
  const expl = answer.explanation || { layers: [], fix: [] };
  const allowed = answer.decision === 'allow';
  const who = expl.principal ? `${expl.principal.type === 'user' ? 'User' : 'Client'} ${expl.principal.name}` : 'The caller';
  return h('div', { class: `verdict ${allowed ? 'verdict-allow' : 'verdict-deny'}` },
    h('h2', { tabindex: '-1' }, allowed ? 'Allowed' : 'Denied'),
    h('p', { class: 'verdict-line' }, allowed ? '✓ ' : '✕ ', `${who} `, allowed ? 'may ' : 'may not ',
      expl.action ? [permissionLabel(expl.action), ' (', code(expl.action), ')'] : 'do this',
      expl.resource ? [' on ', code(expl.resource)] : null, '.',
      ` Status ${answer.status}`, answer.code ? [', ', code(answer.code)] : null, '.'),
    !allowed && answer.message ? h('p', {}, answer.message) : null,
    expl.principal && expl.principal.viaClient ? h('p', { class: 'muted' }, `Signed in through ${expl.principal.viaClient.name}.`) : null,
    h('ol', { class: 'pipeline', 'aria-label': 'Decision pipeline' }, (expl.layers || []).map(layerItem)),
    allowed ? null : historySection(expl),
    allowed ? null : fixSection(expl, rerun, scopesInput));
}

// "Check every action": one row per concrete permission, filled as answers arrive.
function everyAction(q, who) {
  const rows = kPermissions.map((p) => {
    const cells = [h('td', { 'aria-busy': 'true' }, '…'), h('td', {}, ''), h('td', {}, '')];
    return { p, cells, tr: h('tr', {}, h('th', { scope: 'row' }, code(p.name)), cells) };
  });
  const view = h('div', { class: 'every', 'aria-busy': 'true' },
    table(`Every action for ${who}`, ['Action', 'Scope', 'Permission', 'Decision'], rows.map((r) => r.tr)));
  const layerResult = (expl, name) => ((expl.layers || []).find((l) => l.layer === name) || {}).result;
  eachLimited(rows, 4, async (r) => {
    try {
      const answer = await api.post('/api/v2/authorization/check', checkBody({ ...q, conversation: '' }, r.p.name));
      const expl = answer.explanation || {};
      fill(r.cells[0], resultBadge(layerResult(expl, 'scope')));
      fill(r.cells[1], resultBadge(layerResult(expl, 'permission')));
      fill(r.cells[2], answer.decision === 'allow' ? badge('allow', 'good') : badge('deny', 'bad'));
    } catch (err) {
      fill(r.cells[0], h('span', { class: 'muted' }, err.message));
    } finally {
      r.cells[0].setAttribute('aria-busy', 'false');
    }
  }).then(() => view.setAttribute('aria-busy', 'false'));
  return view;
}

function principalSelect() {
  const select = h('select', { required: true, disabled: true }, h('option', { value: '' }, 'Loading principals…'));
  const loaded = Promise.allSettled([api.get('/api/v2/oauth/clients'), api.get('/api/v2/users')]).then(([c, u]) => {
    const clients = c.status === 'fulfilled' ? [...(c.value.entities || [])].sort((a, b) => a.name.localeCompare(b.name)) : [];
    const users = u.status === 'fulfilled' ? u.value.entities || [] : [];
    fill(select, h('option', { value: '' }, 'Choose a client or user'),
      clients.length ? h('optgroup', { label: 'Clients' },
        clients.map((x) => h('option', { value: `client:${x.id}` }, `Client: ${x.name}`))) : null,
      users.length ? h('optgroup', { label: 'Users' },
        users.map((x) => h('option', { value: `user:${x.id}` }, `User: ${x.username}`))) : null);
    select.disabled = false;
    return [c, u].filter((r) => r.status === 'rejected').map((r) => r.reason);
  });
  return { select, loaded };
}

function actionSelect() {
  const groups = [...permissionsByDomain()].map(([domain, perms]) =>
    h('optgroup', { label: domain }, perms.map((p) => h('option', { value: p.name, title: p.label }, p.name))));
  return h('select', { required: true }, h('option', { value: '' }, 'Choose an action'), groups);
}

export function renderExplorer({ container, query }) {
  const { select: principal, loaded } = principalSelect();
  const action = actionSelect();
  const conversations = h('datalist', { id: uid('convs') });
  const conversation = h('input', { type: 'text', list: conversations.id, autocomplete: 'off', spellcheck: 'false' });
  const scopes = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const formErrors = h('div', {});
  const result = h('section', { class: 'result', 'aria-label': 'Result' });
  const explain = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Explain');
  const every = h('button', { type: 'button', class: 'btn' }, 'Check every action');
  api.get('/api/v2/conversations?pageSize=25').then((page) => fill(conversations,
    (page.entities || []).map((c) => h('option', { value: c.id,
      label: `${c.state}, ${(c.participants || []).map((p) => p.name).join(', ')}` }))))
    .catch(() => {});

  const question = () => ({ principal: principal.value, action: action.value, conversation: conversation.value.trim(),
    scopes: scopes.value.split(/[\s,]+/).filter(Boolean) });
  const valid = (q, needAction) => {
    fill(formErrors);
    const missing = !q.principal ? 'Choose a principal.' : needAction && !q.action ? 'Choose an action.' : '';
    if (missing) fill(formErrors, h('p', { class: 'field-error', role: 'alert' }, missing));
    return !missing;
  };
  // prefix: what just changed (an applied fix), said before the new decision.
  const run = (prefix = '') => {
    const q = question();
    if (!valid(q, true)) return;
    // The question goes into the address (without a navigation), so it can be shared or reloaded.
    history.replaceState(null, '', hashFor('/explorer', { principal: q.principal, action: q.action,
      conversation: q.conversation, scopes: q.scopes.join(' ') }));
    loadInto(result, () => api.post('/api/v2/authorization/check', checkBody(q, q.action)),
      (answer) => resultView(answer, run, scopes)).then((answer) => {
      // A short announcement instead of reading the whole pipeline out.
      if (!answer) return;
      const verdict = answer.decision === 'allow' ? 'Allowed.' : `Denied: ${answer.code || answer.message}.`;
      if (prefix) announce(`${prefix}${verdict}`);
      else say(verdict);
    });
  };
  const form = h('form', { class: 'card form', novalidate: true },
    h('div', { class: 'form-grid' },
      field('Principal', principal),
      field('Action', action),
      field('Conversation', conversation, 'Optional: a conversation id; then its existence and state are checked too.'),
      field('Token scopes', scopes, 'Optional, space-separated. Empty: every scope the client allows '
        + '(for a user, the scopes of the client it signs in through).')),
    conversations, formErrors,
    h('div', { class: 'actions' }, explain, every));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); run(); });
  every.addEventListener('click', () => {
    const q = question();
    if (!valid(q, false)) return;
    const who = principal.selectedOptions[0] ? principal.selectedOptions[0].textContent : q.principal;
    fill(result, everyAction(q, who));
  });

  fill(container, pageTitle('Permission explorer'),
    h('p', { class: 'lede' }, 'Why may a client or user do something, or not? The server evaluates the same '
      + 'four layers as a real request, without side effects.'),
    form, result);

  // Pre-filled from the URL (the overview's "Explain in permission explorer"): ask at once when complete.
  action.value = query.get('action') || '';
  conversation.value = query.get('conversation') || '';
  scopes.value = query.get('scopes') || '';
  loaded.then((errors) => {
    if (errors.length) fill(formErrors, errorBox(errors[0], 'Some principals could not be listed.'));
    const wanted = query.get('principal') || '';
    if (wanted && [...principal.options].some((o) => o.value === wanted)) principal.value = wanted;
    else if (wanted) append(formErrors, [h('p', { class: 'hint' }, `The ${wanted.split(':')[0]} ${wanted.split(':').slice(1).join(':')} `,
      'is not among the current clients and users (it may have been deleted): choose a principal.')]);
    if (principal.value && action.value) run();
  });
}
