// live.js — the server's event stream (/dashboard/events): keeps the latest fleet
// summary, hands changed nodes to the views that subscribed, tells them when the
// stream comes back after a gap, and shows a live/reconnecting indicator.

import { goToLogin } from './api.js';

const EVENTS_URL = '/dashboard/events';
const RETRY_MS = 5000;

const listeners = { summary: new Set(), nodes: new Set(), resync: new Set() };
let latest = null;
let indicator = null;
// Whether the stream was down since it last opened (changes may have been missed).
let gap = false;

// Calls fn(data) on every event of `type`: "summary", "nodes", or "resync" (the
// stream is back after a gap, or more changed than the server could list: refetch
// what is shown). A summary subscriber gets the latest summary at once. Returns
// the unsubscribe function.
export function subscribe(type, fn) {
  listeners[type].add(fn);
  if (type === 'summary' && latest) fn(latest);
  return () => listeners[type].delete(fn);
}

function show(state, text) {
  indicator.dataset.state = state;
  indicator.textContent = text;
}

function dispatch(type, event) {
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    return;
  }
  if (type === 'summary') latest = data;
  for (const fn of listeners[type]) fn(data);
}

// EventSource retries by itself after network errors; when the server refuses the
// stream (it closes for good) ask whether the session is still there.
async function recover() {
  show('offline', 'offline');
  const res = await fetch('/dashboard/session', { credentials: 'same-origin' }).catch(() => null);
  if (res && res.status === 401) goToLogin();
  else setTimeout(connect, RETRY_MS);
}

function connect() {
  const source = new EventSource(EVENTS_URL);
  source.addEventListener('open', () => {
    show('live', 'live');
    if (gap) for (const fn of listeners.resync) fn();
    gap = false;
  });
  source.addEventListener('error', () => {
    gap = true;
    if (source.readyState === EventSource.CLOSED) recover();
    else show('reconnecting', 'reconnecting…');
  });
  source.addEventListener('summary', (e) => dispatch('summary', e));
  source.addEventListener('nodes', (e) => dispatch('nodes', e));
  // More changed at once than the server reads per poll: refetch what is shown.
  source.addEventListener('resync', () => {
    for (const fn of listeners.resync) fn();
  });
  source.addEventListener('expired', () => {
    source.close();
    goToLogin();
  });
}

// Opens the stream; `element` is the header's indicator.
export function startLive(element) {
  indicator = element;
  show('connecting', 'connecting…');
  connect();
}
