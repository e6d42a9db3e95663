// conductors.js — the conductors page: each conductor's group, whether it is
// alive, how old its last heartbeat is, how many nodes it owns (from the live
// summary) and its drivers. Refetched every 30 s.

import { api } from './api.js';
import { el, fill, liveTime } from './dom.js';
import { subscribe } from './live.js';

const REFRESH_MS = 30000;

function row(conductor, owned) {
  const host = conductor.hostname;
  return el('tr', { dataset: { conductor: host } },
    el('td', { class: 'mono' }, host),
    el('td', {}, conductor.conductor_group || el('span', { class: 'muted' }, '(default)')),
    el('td', {}, el('span', { class: `badge tone-${conductor.alive ? 'ok' : 'bad'}` }, conductor.alive ? 'alive' : 'dead')),
    el('td', {}, liveTime(conductor.updated_at || conductor.created_at, 'ago')),
    el('td', { class: 'num node-count' }, nodesLink(host, owned)),
    el('td', {}, (conductor.drivers || []).join(', ') || '—'));
}

function nodesLink(host, owned) {
  const count = owned ? owned[host] || 0 : null;
  if (count === null) return '…';
  return count ? el('a', { href: `#/?conductor=${encodeURIComponent(host)}` }, count.toLocaleString()) : '0';
}

export function render(root) {
  const tbody = el('tbody', {});
  const status = el('p', { class: 'muted', role: 'status' }, 'Loading…');
  let owned = null;
  let conductors = [];
  const draw = () => fill(tbody, conductors.map((c) => row(c, owned)));
  fill(root,
    el('h1', {}, 'Conductors'),
    status,
    el('div', { class: 'table-wrap' }, el('table', { id: 'conductors-table', class: 'data' },
      el('thead', {}, el('tr', {}, ['Hostname', 'Group', 'Alive', 'Last heartbeat', 'Nodes', 'Drivers'].map((h) => el('th', {}, h)))),
      tbody)));
  const load = () => api('GET', '/v1/conductors?detail=True').then((body) => {
    conductors = body.conductors || [];
    status.textContent = conductors.length ? '' : 'No conductors have registered.';
    draw();
  }, (err) => { status.textContent = err.message; });
  const stop = subscribe('summary', (summary) => {
    owned = summary.conductor || {};
    draw();
  });
  load();
  const timer = setInterval(load, REFRESH_MS);
  return () => {
    clearInterval(timer);
    stop();
  };
}
