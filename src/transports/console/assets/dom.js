// Building the DOM without HTML strings. Every piece of data reaches the page
// as a text node or an attribute value, never through innerHTML, so nothing the
// server returns (a client name, an audit path) can become markup: the page is
// XSS-safe by construction. Attributes that CSP forbids ('style', inline
// handlers as strings) are refused here rather than discovered in a browser.

// Set as properties after the children exist (a <select>'s value needs its options).
const kProperties = new Set(['value', 'checked', 'indeterminate', 'selectedIndex']);

// h('button', {type: 'button', onClick: f}, 'Save') → <button type="button">Save</button>
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  const late = [];
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'style' || key === 'innerHTML' || key === 'outerHTML')
      throw new Error(`h(): '${key}' is not allowed (CSP, XSS)`);
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (kProperties.has(key)) late.push([key, value]);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  for (const [key, value] of late) el[key] = value;
  return el;
}

// Appends strings (as text), nodes and nested arrays; skips null, undefined and false.
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

// Replaces every child of el.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let idCounter = 0;
// A document-unique id for label/aria wiring.
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

const kDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

// <time datetime="…">local, readable</time>; an empty value reads as a dash.
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', {}, iso);
  return h('time', { datetime: iso, title: iso }, kDateTime.format(d));
}

// Monospace identifier (ids, permissions, scopes).
export function code(text) {
  return h('code', {}, text);
}

// A small pill. The words carry the meaning; the colour (tone) only repeats it.
export function badge(text, tone = 'neutral') {
  return h('span', { class: `badge badge-${tone}` }, text);
}

// A list of code chips, or a muted "none".
export function chips(items, none = 'none') {
  if (!items || items.length === 0) return h('span', { class: 'muted' }, none);
  return h('ul', { class: 'chips' }, items.map((t) => h('li', {}, code(t))));
}

// Identifiers inline, without list semantics (inside a list item that must stay one item).
export function codes(items, none = 'none') {
  if (!items || items.length === 0) return h('span', { class: 'muted' }, none);
  return h('span', { class: 'chips' }, items.map((t) => code(t)));
}

// Names (roles) as tags, or a muted "none".
export function tags(items, none = 'none') {
  if (!items || items.length === 0) return h('span', { class: 'muted' }, none);
  return h('ul', { class: 'chips' }, items.map((t) => h('li', {}, h('span', { class: 'tag' }, t))));
}

// A definition list from [term, value] pairs (values may be nodes).
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(Boolean).map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

// A table inside its own horizontally scrolling, keyboard-focusable container,
// so a wide table never widens the page on a phone.
export function table(caption, headers, rows, { captionHidden = false } = {}) {
  const t = h('table', {},
    h('caption', { class: captionHidden ? 'visually-hidden' : null }, caption),
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows));
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption }, t);
}

// An empty state: what is missing and, optionally, what to do about it.
export function empty(message, hint) {
  return h('div', { class: 'empty' }, h('p', {}, message), hint ? h('p', { class: 'muted' }, hint) : null);
}

// Parses "#/path?x=1" into {path: '/path', query: URLSearchParams}.
export function parseHash(hash) {
  const raw = (hash || '').replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  return { path: q < 0 ? raw : raw.slice(0, q), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

// "#/explorer?principal=…" from a path and an object of defined values.
export function hashFor(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}
