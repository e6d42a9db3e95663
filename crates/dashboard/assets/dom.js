// dom.js — tiny helpers to build elements safely, and the display pieces built on
// them: times and sizes in words, state badges, and form fields with error slots.
// Text always becomes a text node (or textContent); nothing here parses markup, so
// values from the network cannot inject HTML.

// Keys set as DOM properties rather than attributes.
const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open', 'required']);

// el('a', {href: '#/', class: 'x', dataset: {nodeUuid: u}, onclick: fn}, 'text', child…)
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (PROPERTIES.has(key)) node[key] = value;
    else if (value !== false) node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

// Appends children: strings and numbers as text, nodes as they are, arrays flattened,
// null/undefined/false skipped.
function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

// Replaces all children of `parent`.
export function fill(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

// A text value, or a dash for null/empty.
export function orDash(value) {
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

// ---- times, sizes, ids ----------------------------------------------------------

// Milliseconds since the epoch of an API timestamp, or null. Times without a zone
// are UTC, as Ironic writes them.
export function parseTime(iso) {
  if (!iso) return null;
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : iso + 'Z';
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? null : ms;
}

// "12 s", "3 min", "2 h 5 min", "3 d 4 h".
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

const pad = (n) => String(n).padStart(2, '0');

// "2024-05-01 14:03:09" in the browser's time zone.
export function absTime(iso) {
  const ms = parseTime(iso);
  if (ms === null) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// The words for a time relative to now: mode "ago" (a past moment), "for" (how long
// something has lasted) or "until" (a deadline).
function relText(ms, mode) {
  const delta = Date.now() - ms;
  if (mode === 'for') return `for ${duration(delta)}`;
  if (mode === 'until') return delta > 0 ? `overdue by ${duration(delta)}` : `in ${duration(-delta)}`;
  if (delta < 5000 && delta > -5000) return 'just now';
  return delta > 0 ? `${duration(delta)} ago` : `in ${duration(-delta)}`;
}

// A <time> element that refreshTimes() keeps up to date; its title is the absolute time.
export function liveTime(iso, mode = 'ago') {
  const ms = parseTime(iso);
  if (ms === null) return el('span', { class: 'muted' }, '—');
  const overdue = mode === 'until' && ms < Date.now();
  return el('time', {
    datetime: iso, title: absTime(iso), class: overdue ? 'overdue' : null, dataset: { rel: mode },
  }, relText(ms, mode));
}

// Refreshes every live time under `root`.
export function refreshTimes(root = document) {
  for (const node of root.querySelectorAll('time[data-rel]')) {
    const ms = parseTime(node.getAttribute('datetime'));
    node.textContent = relText(ms, node.dataset.rel);
    if (node.dataset.rel === 'until') node.classList.toggle('overdue', ms < Date.now());
  }
}

// Bytes as GiB with one decimal.
export function gib(bytes) {
  return bytes ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : '—';
}

// The first block of a UUID, enough to tell nodes apart on screen.
export function shortId(uuid) {
  return uuid ? uuid.slice(0, 8) : '—';
}

// ---- state badges -------------------------------------------------------------

// The colour family of a provision state: bad (failed, error), wait (waits on the
// ramdisk, holds), busy (a conductor working: every "…ing" state), ok or idle.
export function stateTone(state) {
  const s = state || '';
  if (s === 'error' || / failed$/.test(s)) return 'bad';
  if (/wait|hold/.test(s)) return 'wait';
  if (/ing$/.test(s)) return 'busy';
  if (s === 'active' || s === 'available' || s === 'rescue') return 'ok';
  return 'idle';
}

export function powerTone(power) {
  if (power === 'power on') return 'ok';
  if (power === 'error') return 'bad';
  return 'idle';
}

// A coloured badge for a provision state.
export function stateBadge(state, props = {}) {
  return el('span', { ...props, class: `badge tone-${stateTone(state)}`, dataset: { state: state || '' } },
    state || '—');
}

// ---- form fields ------------------------------------------------------------------

// An error that belongs next to one field.
export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

let serial = 0;

function control(spec, id) {
  const common = { id, name: spec.name, placeholder: spec.placeholder };
  switch (spec.kind) {
    case 'textarea':
      return el('textarea', { ...common, rows: spec.rows || 5, spellcheck: 'false', value: spec.value ?? '' });
    case 'select':
      return el('select', common, spec.options.map((option) =>
        el('option', { value: option, selected: option === spec.value }, option)));
    case 'checkbox':
      return el('input', { ...common, type: 'checkbox', checked: Boolean(spec.value) });
    default:
      return el('input', {
        ...common,
        type: spec.kind || 'text',
        value: spec.value ?? '',
        autocomplete: spec.kind === 'password' ? 'new-password' : 'off',
      });
  }
}

// A field from its spec: { name, label, kind (text, password, url, number, textarea,
// select, checkbox), value, options, placeholder, hint, match (a RegExp: API
// messages that are about this field) }.
export function field(spec) {
  const id = `field-${spec.name}-${++serial}`;
  const input = control(spec, id);
  const label = el('label', { for: id }, spec.label);
  const error = el('span', { class: 'field-error', role: 'alert' });
  const hint = spec.hint ? el('small', { class: 'hint' }, spec.hint) : null;
  const body = spec.kind === 'checkbox' ? [el('span', { class: 'check' }, input, label)] : [label, input];
  return el('div', { class: 'field', dataset: { field: spec.name } }, body, hint, error);
}

// { name: value } of the fields under `root`: booleans for checkboxes, trimmed text
// otherwise (passwords as typed).
export function readFields(root) {
  const values = {};
  for (const input of root.querySelectorAll('.field [name]')) {
    if (input.type === 'checkbox') values[input.name] = input.checked;
    else values[input.name] = input.type === 'password' ? input.value : input.value.trim();
  }
  return values;
}

export function clearErrors(root) {
  for (const slot of root.querySelectorAll('.field-error, .action-error')) slot.textContent = '';
  for (const invalid of root.querySelectorAll('.invalid')) invalid.classList.remove('invalid');
}

// Which field an API message is about, by the field's name or its `match`.
function fieldOfMessage(message, specs) {
  const spec = specs.find((s) => message.includes(s.name) || (s.match && s.match.test(message)));
  return spec ? spec.name : null;
}

// Shows `err` next to its field (a FieldError's, or the field the message names)
// inside `root`, else in root's .action-error.
export function showError(root, err, specs = []) {
  const message = err.message || String(err);
  const name = err.field || fieldOfMessage(message, specs);
  const box = name ? root.querySelector(`.field[data-field="${CSS.escape(name)}"]`) : null;
  if (box) {
    box.classList.add('invalid');
    box.querySelector('.field-error').textContent = message;
    box.querySelector('[name]')?.focus();
  } else {
    root.querySelector('.action-error').textContent = message;
  }
}
