// Pieces every page uses: a region that loads (aria-busy, then content or a
// role="alert" error with the server's message and fix), the status line for
// successes, form fields wired to their labels, confirm steps for destructive
// actions, and secrets shown once.

import { h, fill, uid, code } from './dom.js';
import { ApiError } from './api.js';

// The page title: the one <h1>, focusable so navigation can move focus to it.
export function pageTitle(text, ...after) {
  return h('div', { class: 'page-title' }, h('h1', { tabindex: '-1' }, text), ...after);
}

// The error state: what went wrong, how to fix it, and the contextId support asks for.
export function errorBox(err, title) {
  const e = err instanceof ApiError ? err : new ApiError(0, null, String((err && err.message) || err));
  const fixes = e.fixes;
  const field = e.explanation && e.explanation.field;
  return h('div', { class: 'alert alert-error', role: 'alert' },
    title ? h('p', { class: 'alert-title' }, title) : null,
    h('p', { class: 'alert-message' }, e.message),
    field ? h('p', {}, 'Field: ', code(field), e.explanation.expected ? ` (expected ${e.explanation.expected})` : '') : null,
    fixes.length ? h('div', { class: 'fix' }, h('p', { class: 'fix-title' }, 'How to fix'),
      h('ul', {}, fixes.map((f) => h('li', {}, f)))) : null,
    e.code || e.contextId ? h('p', { class: 'alert-meta' },
      e.code ? ['Code ', code(e.code)] : null, e.code && e.contextId ? ' · ' : null,
      e.contextId ? ['Context id ', code(e.contextId)] : null) : null);
}

// Loads into a region without blocking the rest of the page: aria-busy and a
// loading line while it runs, then render(data) (nodes to show, or nothing when
// it filled the region itself), or the error state.
export async function loadInto(region, load, render) {
  region.setAttribute('aria-busy', 'true');
  fill(region, h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
  try {
    const data = await load();
    const out = render(data, region);
    if (out !== undefined) fill(region, out);
    return data;
  } catch (err) {
    fill(region, errorBox(err));
    return undefined;
  } finally {
    region.setAttribute('aria-busy', 'false');
  }
}

// The success line, a role="status" live region that exists from the start.
export function announce(message) {
  const region = document.getElementById('status');
  if (!region) return;
  fill(region, message ? h('p', { class: 'status-message' }, message) : null);
  region.classList.toggle('has-message', Boolean(message));
}

// Said to screen readers only (a result already visible on the page, such as the explorer's verdict).
export function say(message) {
  const region = document.getElementById('sr-status');
  if (region) region.textContent = message;
}

// A success to show on the next page (after a navigation, which clears the line).
let pendingFlash = '';
export function flash(message) {
  pendingFlash = message;
}
export function takeFlash() {
  const m = pendingFlash;
  pendingFlash = '';
  return m;
}

// A labelled control: <div class=field><label for>…</label>control<p hint></div>.
export function field(labelText, control, hint) {
  const id = control.id || uid('f');
  control.id = id;
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'hint', id: `${id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { for: id }, labelText), control, hintEl);
}

// A checkbox with its own label (the accessible name is exactly labelText).
export function checkbox(labelText, { checked = false, value = labelText, description, disabled = false } = {}) {
  const id = uid('c');
  const input = h('input', { type: 'checkbox', id, value, checked, disabled });
  let about = null;
  if (description) {
    about = h('span', { class: 'check-about', id: `${id}-about` }, description);
    input.setAttribute('aria-describedby', about.id);
  }
  return { input, el: h('div', { class: 'check' }, input, h('label', { for: id }, labelText), about) };
}

// A <fieldset> of checkboxes; items: [{value, label, description, checked, group}].
// Returns the element and a function giving the checked values.
// mono: the labels are identifiers (scopes, permissions), set in monospace.
export function checkboxGroup(legend, items, { columns = true, hint, mono = false } = {}) {
  const boxes = [];
  const body = h('div', { class: ['checks', columns && 'checks-columns', mono && 'checks-mono'] });
  let lastGroup;
  for (const item of items) {
    if (item.group && item.group !== lastGroup) {
      lastGroup = item.group;
      body.appendChild(h('p', { class: 'check-group' }, item.group));
    }
    const box = checkbox(item.label || item.value, item);
    boxes.push(box.input);
    body.appendChild(box.el);
  }
  const el = h('fieldset', {}, h('legend', {}, legend), hint ? h('p', { class: 'hint' }, hint) : null, body);
  return { el, values: () => boxes.filter((b) => b.checked).map((b) => b.value), boxes };
}

// Runs an action from a button: the button is disabled meanwhile (no double
// submits); failures land in `errorSlot` as the error state.
export async function runAction(button, errorSlot, action) {
  if (errorSlot) fill(errorSlot);
  const wasDisabled = button ? button.disabled : false;
  if (button) { button.disabled = true; button.setAttribute('aria-busy', 'true'); }
  try {
    return await action();
  } catch (err) {
    if (errorSlot) fill(errorSlot, errorBox(err));
    return undefined;
  } finally {
    if (button && button.isConnected) { button.disabled = wasDisabled; button.removeAttribute('aria-busy'); }
  }
}

// A destructive action in two steps: the trigger reveals a warning with the
// confirm button (focused) and Cancel; nothing happens until confirmed.
// `hiddenSuffix` completes the accessible name where the visible label is
// short ("Delete" + " role Auditor") and several such buttons share a page.
export function confirmStep({ label, question, confirmLabel, onConfirm, disabledReason, hiddenSuffix }) {
  const slot = h('div', { class: 'confirm-slot' });
  const errors = h('div', {});
  const trigger = h('button', { type: 'button', class: 'btn btn-danger', 'aria-expanded': 'false' }, label,
    hiddenSuffix ? h('span', { class: 'visually-hidden' }, hiddenSuffix) : null);
  const reason = disabledReason ? h('p', { class: 'hint disabled-reason', id: uid('why') }, disabledReason) : null;
  if (reason) { trigger.disabled = true; trigger.setAttribute('aria-describedby', reason.id); }
  const close = () => { fill(slot); trigger.setAttribute('aria-expanded', 'false'); trigger.focus(); };
  trigger.addEventListener('click', () => {
    const confirm = h('button', { type: 'button', class: 'btn btn-danger' }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    confirm.addEventListener('click', () => runAction(confirm, errors, async () => {
      await onConfirm();
    }));
    cancel.addEventListener('click', close);
    fill(slot, h('div', { class: 'confirm', role: 'group', 'aria-label': `${label}${hiddenSuffix || ''}` },
      h('p', { class: 'confirm-question' }, question), h('div', { class: 'actions' }, confirm, cancel), errors));
    trigger.setAttribute('aria-expanded', 'true');
    confirm.focus();
  });
  return h('div', { class: 'danger-action' }, h('div', { class: 'actions' }, trigger), reason, slot);
}

// A "New …" button that opens a creation form. buildForm(onCreated) returns
// {form, focus}; after a creation the form is dropped with its values (a
// password included) and created(item) returns the {panel, heading} shown instead.
export function creator(buttonLabel, buildForm, created) {
  const createdSlot = h('div', {});
  const formSlot = h('div', { id: uid('new'), hidden: true });
  const toggle = h('button', { type: 'button', class: 'btn btn-primary', 'aria-expanded': 'false',
    'aria-controls': formSlot.id }, buttonLabel);
  const setOpen = (open) => {
    formSlot.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  };
  let built = null;
  const onCreated = (item) => {
    setOpen(false);
    fill(formSlot);
    built = null;
    const { panel, heading } = created(item);
    fill(createdSlot, panel);
    heading.focus();
  };
  toggle.addEventListener('click', () => {
    if (!built) {
      built = buildForm(onCreated);
      fill(formSlot, built.form);
    }
    const open = formSlot.hidden;
    setOpen(open);
    if (open) { fill(createdSlot); built.focus(); }
  });
  return { toggle, formSlot, createdSlot };
}

// A value shown once (a client secret, a generated password): an <output>
// named by its label, a copy button, and the warning that it will not come back.
export function secretOnce(labelText, value, note) {
  const id = uid('secret');
  const output = h('output', { id, class: 'secret-value' }, value);
  const copy = h('button', { type: 'button', class: 'btn btn-small' }, `Copy ${labelText.toLowerCase()}`);
  const copied = h('span', { class: 'copied', 'aria-live': 'polite' });
  copy.addEventListener('click', async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(value);
      copied.textContent = 'Copied.';
    } catch {
      // No clipboard (http, or permission refused): select it for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(output);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      copied.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  });
  return h('div', { class: 'secret' },
    h('label', { for: id, class: 'secret-label' }, labelText),
    h('div', { class: 'secret-row' }, output, copy, copied),
    h('p', { class: 'secret-note' }, note || 'It is shown only once: copy it now. It cannot be shown again.'));
}

// A button whose action is unavailable, with the reason visible next to it.
export function disabledWithReason(button, reason) {
  const why = h('span', { class: 'disabled-reason', id: uid('why') }, reason);
  button.disabled = true;
  button.setAttribute('aria-describedby', why.id);
  return h('span', { class: 'with-reason' }, button, why);
}

// Runs fn over items with at most `limit` requests in flight (keeps a slow
// server usable: a page of 25 rows does not fire 25 requests at once).
export async function eachLimited(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
