// Conversations: one page of calls at a time, each with its recording state,
// which is a request per row; those fill in as they arrive (a few at a time)
// while the table is already usable.

import { h, fill, time, badge, table, empty, hashFor } from '../dom.js';
import { api, seg } from '../api.js';
import { loadInto, pageTitle, eachLimited } from '../ui.js';

const kPageSize = 25;

export function conversationStateBadge(state) {
  return state === 'connected' ? badge('connected', 'good') : badge(state || 'unknown', 'muted');
}

const kRecordingTones = { active: 'bad', paused: 'warn', stopped: 'muted', none: 'neutral' };

// Recording state words; the red of "active" only repeats the word (recording now).
export function recordingStateBadge(state) {
  const label = state === 'active' ? '● recording' : state;
  return badge(label || 'unknown', kRecordingTones[state] || 'neutral');
}

function row(c) {
  const rec = h('td', { 'aria-busy': 'true' }, h('span', { class: 'muted' }, 'loading…'));
  const tr = h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/conversations/${seg(c.id)}`, class: 'mono' }, c.id)),
    h('td', {}, conversationStateBadge(c.state)),
    h('td', {}, time(c.startedAt)),
    h('td', {}, time(c.endedAt)),
    h('td', {}, String((c.participants || []).length)),
    rec);
  return { tr, rec, id: c.id };
}

async function fillRecordingState(r) {
  try {
    const recording = await api.get(`/api/v2/recordings/conversations/${seg(r.id)}`);
    fill(r.rec, recordingStateBadge(recording.state));
  } catch (err) {
    fill(r.rec, h('span', { class: 'muted', title: err.message }, err.status === 404 ? 'none' : 'unavailable'));
  } finally {
    r.rec.setAttribute('aria-busy', 'false');
  }
}

function pager(pageNumber, hasNext) {
  const prev = h('a', { class: 'btn', href: hashFor('/conversations', { page: pageNumber > 2 ? pageNumber - 1 : '' }) },
    'Previous page');
  const next = h('a', { class: 'btn', href: hashFor('/conversations', { page: pageNumber + 1 }) }, 'Next page');
  return h('nav', { class: 'pager', 'aria-label': 'Conversation pages' },
    pageNumber > 1 ? prev : h('span', {}),
    h('span', { class: 'muted' }, `Page ${pageNumber}`),
    hasNext ? next : h('span', {}));
}

function renderPage(page, pageNumber) {
  const list = page.entities || [];
  if (list.length === 0 && pageNumber === 1)
    return empty('No conversations yet.', 'They appear when a call is recorded over SIPREC or AudioHook, or created through the API.');
  const rows = list.map(row);
  eachLimited(rows, 4, fillRecordingState);
  return [
    list.length ? table(`Conversations, page ${pageNumber}`, ['Id', 'State', 'Started', 'Ended', 'Participants', 'Recording'],
      rows.map((r) => r.tr), { captionHidden: true }) : empty('No more conversations.'),
    pager(pageNumber, list.length === kPageSize),
  ];
}

export function renderConversations({ container, query }) {
  const pageNumber = Math.max(1, Number.parseInt(query.get('page') || '1', 10) || 1);
  const region = h('div', {});
  fill(container, pageTitle('Conversations'),
    h('p', { class: 'lede' }, 'Calls verbatim knows about, and the state of their recording.'),
    h('section', { 'aria-label': 'Conversation list' }, region));
  loadInto(region, () => api.get(`/api/v2/conversations?pageSize=${kPageSize}&pageNumber=${pageNumber}`),
    (page) => renderPage(page, pageNumber));
}
