// One conversation: its participants, the recording controls (each disabled
// with the reason when the viewer lacks the permission or the state does not
// allow it), each media segment with a player and its waveform, and the
// conversation's audit events as a timeline.

import { h, fill, time, code, badge, facts, table, empty, hashFor } from '../dom.js';
import { api, consoleUrl, seg } from '../api.js';
import { me } from '../session.js';
import { anyCovers } from '../catalog.js';
import { loadInto, pageTitle, field, checkbox, runAction, announce, disabledWithReason } from '../ui.js';
import { conversationStateBadge, recordingStateBadge } from './conversations.js';
import { drawWaveform } from '../waveform.js';

const kActions = [
  { action: 'start', label: 'Start recording', permission: 'recording:recording:start', done: 'started' },
  { action: 'pause', label: 'Pause recording', permission: 'recording:recording:pause', done: 'paused' },
  { action: 'resume', label: 'Resume recording', permission: 'recording:recording:resume', done: 'resumed' },
  { action: 'stop', label: 'Stop recording', permission: 'recording:recording:stop', done: 'stopped' },
];

// Why the state machine (docs/api.md §4) refuses an action, by action and state.
const kStateReasons = {
  start: { active: 'Already recording.', paused: 'The recording is paused: resume it instead.' },
  pause: { none: 'Nothing is being recorded.', stopped: 'Nothing is being recorded.', paused: 'Already paused.' },
  resume: { none: 'Nothing is paused.', stopped: 'Nothing is paused: start a new segment instead.', active: 'Already recording.' },
  stop: { none: 'Nothing is being recorded.', stopped: 'Already stopped.' },
};

// Why `a` cannot be done now, or '' when it can. Permission first: it is what the viewer can change least.
function whyNot(a, { conversation, recording, info }) {
  if (!anyCovers(info.effectivePermissions, a.permission)) {
    if ((info.grantedByRolesButNotByScopes || []).some((p) => p === a.permission))
      return `Your sign-in's scopes do not unlock ${a.permission}.`;
    return `None of your roles grants ${a.permission}.`;
  }
  if (conversation.state === 'disconnected') return 'The conversation has ended.';
  if ((recording.allowedActions || []).includes(a.action)) return '';
  return (kStateReasons[a.action] || {})[recording.state] || `Not possible while the recording is ${recording.state}.`;
}

function participants(c) {
  const list = c.participants || [];
  if (list.length === 0) return empty('No participants yet.');
  return table('Participants', ['Name', 'Purpose', 'Id'],
    list.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.name || '—'), h('td', {}, p.purpose), h('td', {}, code(p.id)))),
    { captionHidden: true });
}

function details(c) {
  return [
    facts([
      ['State', conversationStateBadge(c.state)],
      ['Started', time(c.startedAt)],
      ['Ended', time(c.endedAt)],
      c.externalId ? ['External id', code(c.externalId)] : null,
      c.mediaOwner ? ['Media owner', [c.mediaOwner.type, ' ', code(c.mediaOwner.id)]] : null,
    ]),
    h('h3', {}, 'Participants'), participants(c)];
}

function controls(state, onChanged) {
  const reason = h('input', { type: 'text', maxlength: '512', autocomplete: 'off' });
  const errors = h('div', {});
  const buttons = kActions.map((a) => {
    const button = h('button', { type: 'button', class: a.action === 'stop' ? 'btn btn-danger' : 'btn btn-primary' }, a.label);
    const why = whyNot(a, state);
    if (why) return disabledWithReason(button, why);
    button.addEventListener('click', () => runAction(button, errors, async () => {
      const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
      const result = await api.post(`/api/v2/recordings/conversations/${seg(state.conversation.id)}/actions/${a.action}`, body);
      announce(result.changed ? `Recording ${a.done}: now ${result.state}.`
        : `Nothing changed: the recording already is ${result.state}.`);
      onChanged();
    }));
    return h('span', { class: 'with-reason' }, button);
  });
  return [
    h('p', {}, 'State: ', recordingStateBadge(state.recording.state)),
    h('div', { class: 'recording-controls' }, buttons),
    field('Reason', reason, 'Optional; kept in the recording\'s timeline (e.g. "pci").'),
    errors];
}

function transitions(recording) {
  const list = recording.timeline || [];
  if (list.length === 0) return empty('No transitions yet.');
  return table('Recording transitions, newest first', ['Time', 'Action', 'From → to', 'Segment', 'By', 'Reason'],
    [...list].reverse().map((t) => h('tr', {},
      h('td', {}, time(t.at)), h('td', {}, t.action), h('td', {}, `${t.from} → ${t.to}`), h('td', {}, String(t.segment || '')),
      h('td', {}, t.principal ? t.principal.name : ''), h('td', {}, t.reason || ''))), { captionHidden: true });
}

function formatDuration(ms) {
  const s = Math.round((ms || 0) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// One media segment: its facts, the <audio> player and the waveform canvas.
function segmentView(conversationId, m) {
  const src = consoleUrl(`/api/v2/recordings/conversations/${seg(conversationId)}/media?segment=${m.segment}`);
  const canvas = h('canvas', { class: 'waveform', role: 'img', 'aria-label': `Waveform of segment ${m.segment}` });
  const note = h('p', { class: 'hint' });
  const view = h('li', { class: 'segment' },
    h('h3', {}, `Segment ${m.segment}`, ' ', m.status === 'recording' ? badge('still recording', 'warn') : null),
    h('p', { class: 'muted' }, `${formatDuration(m.durationMs)} · ${m.channels} channel${m.channels === 1 ? '' : 's'}`,
      (m.channelLabels || []).length ? ` (${m.channelLabels.join(', ')})` : '', ` · ${m.sampleRate} Hz`),
    h('audio', { controls: true, preload: 'metadata', src, 'aria-label': `Segment ${m.segment}` }),
    canvas, note);
  // Drawn once the canvas has its layout width.
  requestAnimationFrame(() => drawWaveform(canvas, src, m.channelLabels || []).catch((err) => {
    note.textContent = `The waveform could not be drawn: ${err.message}.`;
  }));
  return view;
}

function media(conversationId, recording) {
  const list = recording.media || [];
  if (list.length === 0) return empty('No media yet.', 'Segments appear here once audio has been recorded.');
  return h('ol', { class: 'segments' }, list.map((m) => segmentView(conversationId, m)));
}

// Reads are most of a conversation's audit events (this page makes some);
// they are hidden unless asked for, denials always shown.
function isRead(e) {
  return e.decision === 'allow' && /:(view|download)$/.test(e.action || '');
}

function auditTimeline(page, conversationId) {
  const events = page.entities || [];
  if (events.length === 0) return empty('No audit events for this conversation.');
  const items = events.map((e) => {
    const expl = e.explanation || {};
    return h('li', { class: `timeline-item timeline-${e.decision}`, hidden: isRead(e) },
      h('div', { class: 'timeline-head' }, time(e.at), ' ', badge(e.decision, e.decision === 'deny' ? 'bad' : 'good'),
        ' ', code(e.action || `${e.method} ${e.path}`)),
      h('p', {}, e.principal && e.principal.name ? e.principal.name : 'unknown caller', ` · ${e.status}`,
        e.code ? [' · ', code(e.code)] : null),
      e.decision === 'deny' && expl.message ? h('p', { class: 'muted' }, expl.message) : null);
  });
  const reads = events.filter(isRead).length;
  const showReads = checkbox(`Show views and downloads (${reads})`);
  showReads.input.addEventListener('change', () => {
    events.forEach((e, i) => { if (isRead(e)) items[i].hidden = !showReads.input.checked; });
  });
  return [
    reads ? showReads.el : null,
    reads === events.length ? h('p', { class: 'muted' }, 'Only views and downloads so far.') : null,
    h('ol', { class: 'timeline' }, items),
    h('p', {}, h('a', { href: hashFor('/audit', { conversation: conversationId }) },
      page.nextCursor ? 'Older events in the audit log' : 'These events in the audit log')),
  ];
}

export function renderConversation({ container, params }) {
  const id = params.id;
  const info = h('div', {});
  const recordingRegion = h('div', {});
  const mediaRegion = h('div', {});
  const timelineRegion = h('div', {});
  const auditRegion = h('div', {});
  fill(container, h('p', { class: 'crumbs' }, h('a', { href: '#/conversations' }, 'Conversations')),
    pageTitle('Conversation'),
    h('p', { class: 'subtitle' }, 'Id ', code(id), ' · ',
      h('a', { href: hashFor('/explorer', { conversation: id }) }, 'Ask the permission explorer about it')),
    h('div', { class: 'columns' },
      h('section', { class: 'card grow', 'aria-labelledby': 'cd-h' }, h('h2', { id: 'cd-h' }, 'Details'), info),
      h('section', { class: 'card grow', 'aria-labelledby': 'rec-h' }, h('h2', { id: 'rec-h' }, 'Recording'), recordingRegion)),
    h('section', { class: 'card', 'aria-labelledby': 'seg-h' }, h('h2', { id: 'seg-h' }, 'Segments'), mediaRegion),
    h('section', { class: 'card', 'aria-labelledby': 'tr-h' }, h('h2', { id: 'tr-h' }, 'Recording timeline'), timelineRegion),
    h('section', { class: 'card', 'aria-labelledby': 'au-h' }, h('h2', { id: 'au-h' }, 'Audit events'), auditRegion));

  const conversationP = api.get(`/api/v2/conversations/${seg(id)}`);
  loadInto(info, () => conversationP, details);
  const loadRecording = () => {
    const recordingP = api.get(`/api/v2/recordings/conversations/${seg(id)}`);
    loadInto(recordingRegion, async () => {
      const [conversation, recording, mine] = await Promise.all([conversationP, recordingP, me({ refresh: false })]);
      return { conversation, recording, info: mine };
    }, (state) => controls(state, () => { loadRecording(); loadAudit(); }));
    loadInto(mediaRegion, () => recordingP, (recording) => media(id, recording));
    loadInto(timelineRegion, () => recordingP, transitions);
  };
  const loadAudit = () => loadInto(auditRegion,
    () => api.get(`/api/v2/audit/events?conversationId=${seg(id)}&pageSize=50`), (page) => auditTimeline(page, id));
  loadRecording();
  loadAudit();
}
