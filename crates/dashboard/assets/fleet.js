// fleet.js — the fleet view: live counters, filters, search, one sorted page of
// the node table (paged by marker, updated in place by live events, refetched at
// most every 2 s) and, for operators, bulk actions over the selected rows. It never
// asks for more than one page of nodes.

import { bulkBar } from './actions.js';
import { api, env, nodePath, query } from './api.js';
import {
  el, fill, liveTime, orDash, powerTone, shortId, stateBadge, stateTone,
} from './dom.js';
import { subscribe } from './live.js';

const PAGE_SIZE = 50;
const REFETCH_GAP_MS = 2000;
const FIELDS = 'uuid,name,provision_state,target_provision_state,power_state,target_power_state,' +
  'maintenance,fault,resource_class,conductor,owner,instance_uuid,updated_at,last_error,traits';
const FILTERS = ['provision_state', 'maintenance', 'fault', 'resource_class', 'conductor', 'owner', 'traits'];
// Every provision state, in the order of a node's life.
const PROVISION_STATES = [
  'enroll', 'verifying', 'manageable', 'inspecting', 'inspect wait', 'inspect failed',
  'cleaning', 'clean wait', 'clean hold', 'clean failed', 'available', 'deploying',
  'wait call-back', 'deploy hold', 'deploy failed', 'active', 'deleting', 'error',
  'rescuing', 'rescue wait', 'rescue failed', 'rescue', 'unrescuing', 'unrescue failed',
  'adopting', 'adopt failed', 'servicing', 'service wait', 'service hold', 'service failed',
];
const FAULTS = ['power failure', 'clean failure', 'rescue abort failure', 'service failure'];
const MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Table columns after the checkbox: [heading, sort key or null, optional]. Optional
// columns give way on narrow screens.
const COLUMNS = [
  ['Name', 'name'], ['UUID', 'uuid', true], ['Provision state', 'provision_state'], ['Power', 'power_state'],
  ['Flags', 'maintenance'], ['Resource class', 'resource_class'], ['Conductor', null, true], ['Owner', null, true],
  ['Instance', null, true], ['Updated', 'updated_at'], ['Last error', null],
];

// The markers of the pages before the current one (for Previous), kept across
// renders while the filters and sort stay the same.
const trail = { key: '', markers: [] };

const filtersOf = (params) => Object.fromEntries(FILTERS.filter((k) => params[k]).map((k) => [k, params[k]]));
const sortOf = (params) => ({ sort_key: params.sort_key, sort_dir: params.sort_dir });
const go = (params) => { location.hash = `#/${query(params)}`; };
const nodeHref = (uuid) => `#/node/${encodeURIComponent(uuid)}`;

// ---- counters -------------------------------------------------------------------

// One counter; clicking it (when `target` is given) shows the nodes it counts.
function counter(id, label, count, { tone, target, active } = {}) {
  const classes = ['counter', tone && `tone-${tone}`, active && 'active'].filter(Boolean).join(' ');
  const content = [el('span', { class: 'count' }, Number(count || 0).toLocaleString()), el('span', { class: 'label' }, label)];
  return target
    ? el('button', { type: 'button', class: classes, dataset: { counter: id }, onclick: () => go(target) }, content)
    : el('span', { class: `${classes} static`, dataset: { counter: id }, title: 'The node list cannot filter on this' }, content);
}

function counterGroup(title, counters) {
  return counters.length ? el('div', { class: 'counter-group' }, el('span', { class: 'group-label' }, title), counters) : null;
}

function counters(summary, params) {
  const base = { ...filtersOf(params), ...sortOf(params) };
  const by = (field, value) => ({ ...base, [field]: value });
  const states = Object.entries(summary.provision_state || {})
    .sort(([a], [b]) => PROVISION_STATES.indexOf(a) - PROVISION_STATES.indexOf(b));
  const power = Object.entries(summary.power_state || {});
  const faults = Object.entries(summary.fault || {});
  return [
    counterGroup('Nodes', [counter('total:all', 'total', summary.total, { target: sortOf(params), active: !Object.keys(filtersOf(params)).length })]),
    counterGroup('Provision state', states.map(([state, n]) => counter(`provision_state:${state}`, state, n, {
      tone: stateTone(state), target: by('provision_state', state), active: params.provision_state === state,
    }))),
    counterGroup('Power', power.map(([state, n]) => counter(`power_state:${state}`, state === 'null' ? 'no power state' : state, n, { tone: powerTone(state) }))),
    counterGroup('Maintenance', [counter('maintenance:true', 'maintenance', summary.maintenance, {
      tone: summary.maintenance ? 'wait' : null, target: by('maintenance', 'true'), active: params.maintenance === 'true',
    })]),
    counterGroup('Faults', faults.map(([fault, n]) => counter(`fault:${fault}`, fault, n, {
      tone: 'bad', target: by('fault', fault), active: params.fault === fault,
    }))),
  ];
}

// ---- filters and search -----------------------------------------------------------

const option = (value, label, current) => el('option', { value, selected: value === (current || '') }, label);

function labelled(text, control) {
  return el('label', { class: 'filter' }, el('span', {}, text), control);
}

function filterForm(params, lists) {
  const form = el('form', { id: 'filters', class: 'filters' },
    labelled('Provision state', el('select', { name: 'provision_state' },
      option('', 'any', params.provision_state), PROVISION_STATES.map((s) => option(s, s, params.provision_state)))),
    labelled('Maintenance', el('select', { name: 'maintenance' },
      option('', 'any', params.maintenance), option('true', 'yes', params.maintenance), option('false', 'no', params.maintenance))),
    labelled('Fault', el('select', { name: 'fault' },
      option('', 'any', params.fault), FAULTS.map((f) => option(f, f, params.fault)))),
    labelled('Resource class', el('input', { name: 'resource_class', list: 'resource-classes', value: params.resource_class || '', size: 12 })),
    labelled('Conductor', el('input', { name: 'conductor', list: 'conductor-hosts', value: params.conductor || '', size: 12 })),
    labelled('Owner', el('input', { name: 'owner', value: params.owner || '', size: 12 })),
    labelled('Traits', el('input', {
      name: 'traits', value: params.traits || '', size: 16, placeholder: 'CUSTOM_A,CUSTOM_B',
      title: 'Nodes with all of these traits (comma-separated)',
    })),
    el('div', { class: 'filter-buttons' },
      el('button', { type: 'submit' }, 'Apply'),
      el('button', { type: 'button', onclick: () => go(sortOf(params)) }, 'Clear')),
    lists.resourceClasses, lists.conductors);
  const apply = () => {
    const data = new FormData(form);
    const next = { ...sortOf(params) };
    for (const key of FILTERS) next[key] = String(data.get(key) || '').trim();
    go(next);
  };
  form.addEventListener('submit', (event) => { event.preventDefault(); apply(); });
  form.addEventListener('change', (event) => { if (event.target.tagName === 'SELECT') apply(); });
  return form;
}

// The UUIDs of the nodes a search text names: a MAC (its port's node), a UUID (the
// node, or the node running that instance) or a name.
async function findNodes(text) {
  const notFound = (err) => {
    if (err.status === 404 || err.status === 400) return null;
    throw err;
  };
  if (MAC.test(text)) {
    const body = await api('GET', `/v1/ports${query({ address: text.toLowerCase().replaceAll('-', ':'), fields: 'node_uuid' })}`);
    return [...new Set(body.ports.map((p) => p.node_uuid))];
  }
  if (UUID.test(text)) {
    const [byUuid, byInstance] = await Promise.all([
      api('GET', `${nodePath(text)}?fields=uuid`).catch(notFound),
      api('GET', `/v1/nodes${query({ instance_uuid: text, fields: 'uuid' })}`).catch(notFound),
    ]);
    const found = [byUuid && byUuid.uuid, ...((byInstance && byInstance.nodes) || []).map((n) => n.uuid)];
    return [...new Set(found.filter(Boolean))];
  }
  const node = await api('GET', `${nodePath(text)}?fields=uuid`).catch(notFound);
  return node ? [node.uuid] : [];
}

function searchForm() {
  const input = el('input', { type: 'search', name: 'q', placeholder: 'Name, UUID, instance UUID or MAC', 'aria-label': 'Find a node', size: 30 });
  const result = el('span', { id: 'search-result', role: 'status' });
  const form = el('form', { id: 'search', class: 'search' }, input, el('button', { type: 'submit' }, 'Find'), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    result.className = '';
    result.textContent = 'Searching…';
    try {
      const uuids = await findNodes(text);
      if (uuids.length === 1) {
        location.hash = nodeHref(uuids[0]);
        return;
      }
      result.className = 'muted';
      if (uuids.length === 0) fill(result, 'No node matches.');
      else fill(result, `${uuids.length} nodes match: `, uuids.map((u) => [el('a', { href: nodeHref(u), class: 'mono' }, shortId(u)), ' ']));
    } catch (err) {
      result.className = 'action-error';
      result.textContent = err.message;
    }
  });
  return form;
}

// ---- table ------------------------------------------------------------------------

function headRow(view) {
  const { params } = view;
  const heads = COLUMNS.map(([label, key, optional]) => {
    const cls = optional ? 'opt' : null;
    if (!key) return el('th', { class: cls }, label);
    const active = params.sort_key === key;
    const dir = params.sort_dir === 'desc' ? 'desc' : 'asc';
    return el('th', { class: cls, 'aria-sort': active ? `${dir}ending` : null },
      el('button', {
        type: 'button',
        class: 'sort',
        dataset: { sortKey: key },
        onclick: () => go({ ...filtersOf(params), sort_key: key, sort_dir: active && dir === 'asc' ? 'desc' : 'asc' }),
      }, label, active ? (dir === 'asc' ? ' ▲' : ' ▼') : ''));
  });
  const selectAll = view.canSelect
    ? el('th', { class: 'select' }, el('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select every node on this page' }))
    : null;
  return el('tr', {}, selectAll, heads);
}

function nodeRow(node, view, changed = false) {
  const label = node.name || node.uuid;
  return el('tr', { class: changed ? 'changed' : null, dataset: { nodeUuid: node.uuid } },
    view.canSelect
      ? el('td', { class: 'select' }, el('input', { type: 'checkbox', 'aria-label': `Select ${label}`, checked: view.selection.has(node.uuid) }))
      : null,
    el('td', { class: 'name' }, el('a', { href: nodeHref(node.uuid), class: node.name ? null : 'mono' }, node.name || shortId(node.uuid))),
    el('td', { class: 'mono uuid opt', title: node.uuid }, shortId(node.uuid)),
    el('td', { class: 'provision-state', dataset: { state: node.provision_state } },
      stateBadge(node.provision_state),
      node.target_provision_state ? el('span', { class: 'target' }, `→ ${node.target_provision_state}`) : null),
    el('td', { class: `power-state power-${powerTone(node.power_state)}` },
      orDash(node.power_state),
      node.target_power_state ? el('span', { class: 'target' }, ` → ${node.target_power_state}`) : null),
    el('td', { class: 'flags' },
      node.maintenance ? el('span', { class: 'flag maint', title: 'In maintenance' }, 'maint') : null,
      node.fault ? el('span', { class: 'flag fault', title: `Fault: ${node.fault}` }, node.fault) : null),
    el('td', {}, orDash(node.resource_class)),
    el('td', { class: 'opt' }, orDash(node.conductor)),
    el('td', { class: 'opt' }, orDash(node.owner)),
    el('td', { class: 'mono opt', title: node.instance_uuid || null }, node.instance_uuid ? shortId(node.instance_uuid) : '—'),
    el('td', { class: 'updated' }, liveTime(node.updated_at, 'ago')),
    el('td', { class: 'last-error', title: node.last_error || null }, node.last_error || ''));
}

function syncSelectAll(view) {
  const box = view.table.querySelector('#select-all');
  if (!box) return;
  box.checked = view.nodes.size > 0 && view.selection.size === view.nodes.size;
  box.indeterminate = view.selection.size > 0 && view.selection.size < view.nodes.size;
}

function onCheckbox(view, event) {
  const box = event.target;
  if (box.type !== 'checkbox') return;
  const uuids = box.id === 'select-all' ? [...view.nodes.keys()] : [box.closest('tr').dataset.nodeUuid];
  for (const uuid of uuids) {
    const node = view.nodes.get(uuid);
    if (box.checked) view.selection.set(uuid, node.name || node.uuid);
    else view.selection.delete(uuid);
    view.rows.get(uuid).querySelector('td.select input').checked = box.checked;
  }
  syncSelectAll(view);
  view.bulk.update();
}

function showPage(view, nodes, hasNext) {
  view.nodes = new Map(nodes.map((n) => [n.uuid, n]));
  view.rows = new Map(nodes.map((n) => [n.uuid, nodeRow(n, view)]));
  for (const uuid of [...view.selection.keys()]) if (!view.nodes.has(uuid)) view.selection.delete(uuid);
  fill(view.tbody, [...view.rows.values()]);
  view.status.textContent = nodes.length ? `${nodes.length} nodes on this page` : 'No nodes match.';
  view.next.disabled = !hasNext || nodes.length === 0;
  view.lastUuid = nodes.length ? nodes[nodes.length - 1].uuid : null;
  syncSelectAll(view);
  if (view.bulk) view.bulk.update();
}

async function loadPage(view) {
  const seq = ++view.seq;
  view.lastFetch = Date.now();
  const { params } = view;
  try {
    const body = await api('GET', `/v1/nodes${query({
      ...filtersOf(params), ...sortOf(params), marker: params.marker, limit: PAGE_SIZE, fields: FIELDS,
    })}`);
    if (seq === view.seq && !view.disposed) showPage(view, body.nodes || [], Boolean(body.next));
  } catch (err) {
    if (seq === view.seq) view.status.textContent = err.message;
  }
}

function scheduleRefetch(view) {
  if (view.refetchTimer) return;
  const wait = Math.max(0, view.lastFetch + REFETCH_GAP_MS - Date.now());
  view.refetchTimer = setTimeout(() => {
    view.refetchTimer = null;
    if (!view.disposed) loadPage(view);
  }, wait);
}

// Whether a node (as the feed sends it) passes the filters, as the API would decide.
const matchesFilters = (node, filters) => Object.entries(filters).every(([key, want]) => {
  if (key !== 'traits') return String(node[key] ?? '') === want;
  const has = new Set(node.traits || []);
  return want.split(',').map((t) => t.trim()).filter(Boolean).every((t) => has.has(t));
});

// Changed nodes on this page are redrawn in place; a change that may move nodes
// onto, off or within the page (its sort column changed) refetches it (at most
// every REFETCH_GAP_MS).
function onNodesChanged(view, changed) {
  const filters = filtersOf(view.params);
  const sortKey = view.params.sort_key;
  let refetch = false;
  for (const update of changed) {
    const row = view.rows.get(update.uuid);
    const matches = matchesFilters(update, filters);
    const moved = row && sortKey && String(update[sortKey]) !== String(view.nodes.get(update.uuid)[sortKey]);
    if (row && matches && !moved) {
      const node = { ...view.nodes.get(update.uuid), ...update };
      const fresh = nodeRow(node, view, true);
      row.replaceWith(fresh);
      view.nodes.set(node.uuid, node);
      view.rows.set(node.uuid, fresh);
    } else if (row || matches) {
      refetch = true;
    }
  }
  if (refetch) scheduleRefetch(view);
}

// ---- paging -----------------------------------------------------------------------

// Brings the trail in line with the page shown (also after the browser's Back).
function syncTrail(params) {
  const key = JSON.stringify([filtersOf(params), sortOf(params)]);
  if (trail.key !== key) {
    trail.key = key;
    trail.markers = [];
  }
  const here = trail.markers.indexOf(params.marker || '');
  if (here >= 0) trail.markers.length = here;
}

function pager(view) {
  const base = { ...filtersOf(view.params), ...sortOf(view.params) };
  const previous = el('button', {
    type: 'button', id: 'page-previous', disabled: !view.params.marker,
    onclick: () => go({ ...base, marker: trail.markers.pop() }),
  }, '← Previous');
  view.next = el('button', {
    type: 'button', id: 'page-next', disabled: true,
    onclick: () => {
      trail.markers.push(view.params.marker || '');
      go({ ...base, marker: view.lastUuid });
    },
  }, 'Next →');
  const page = view.params.marker && !trail.markers.length ? 'Page …' : `Page ${trail.markers.length + 1}`;
  return el('div', { class: 'pager' }, view.status, previous, el('span', { class: 'page-number' }, page), view.next);
}

// ---- the view -----------------------------------------------------------------------

export function render(root, params) {
  syncTrail(params);
  const view = {
    params,
    canSelect: env.session.can_act,
    selection: new Map(),
    nodes: new Map(),
    rows: new Map(),
    seq: 0,
    lastFetch: 0,
    refetchTimer: null,
    disposed: false,
    tbody: el('tbody', {}),
    status: el('span', { class: 'status', role: 'status' }, 'Loading…'),
    lastUuid: null,
  };
  view.table = el('table', { id: 'fleet-table', class: 'data fleet' }, el('thead', {}, headRow(view)), view.tbody);
  view.table.addEventListener('change', (event) => onCheckbox(view, event));
  view.bulk = view.canSelect ? bulkBar(() => view.selection, () => loadPage(view)) : null;

  const countersBox = el('div', { id: 'counters', class: 'counters' }, el('span', { class: 'muted' }, 'Waiting for the live summary…'));
  const lists = { resourceClasses: el('datalist', { id: 'resource-classes' }), conductors: el('datalist', { id: 'conductor-hosts' }) };
  fill(root,
    countersBox,
    el('div', { class: 'controls' }, filterForm(params, lists), searchForm()),
    view.bulk ? view.bulk.element : null,
    el('div', { class: 'table-wrap' }, view.table),
    pager(view));

  const stopSummary = subscribe('summary', (summary) => {
    fill(countersBox, counters(summary, params));
    fill(lists.resourceClasses, Object.keys(summary.resource_class || {}).map((v) => el('option', { value: v })));
    fill(lists.conductors, Object.keys(summary.conductor || {}).map((v) => el('option', { value: v })));
  });
  const stops = [
    stopSummary,
    subscribe('nodes', ({ nodes = [] }) => onNodesChanged(view, nodes)),
    subscribe('resync', () => scheduleRefetch(view)),
  ];
  loadPage(view);
  return () => {
    view.disposed = true;
    clearTimeout(view.refetchTimer);
    for (const stop of stops) stop();
  };
}
