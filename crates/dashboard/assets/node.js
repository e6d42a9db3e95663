// node.js — the node page: header with state badges, the action toolbar, timeline
// and why-waiting panels, every field of the node, ports and port groups, what
// inspection found (NICs' LLDP neighbours decoded) and BIOS settings. Reloads the
// node and its history whenever a live event names it.

import { nodeToolbar } from './actions.js';
import { api, env, nodePath } from './api.js';
import {
  el, fill, gib, liveTime, orDash, powerTone, shortId, stateBadge,
} from './dom.js';
import { subscribe } from './live.js';
import { statusPanels, timeline } from './timeline.js';

const ID_LIKE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|([0-9a-f]{2}:){5}[0-9a-f]{2})$/i;

function section(id, title) {
  return el('section', { id, class: 'panel' }, el('h2', {}, title), el('div', { class: 'panel-body' }));
}

const bodyOf = (panel) => panel.querySelector('.panel-body');

// ---- header ---------------------------------------------------------------------

function headerContent(node) {
  const facts = [
    ['Driver', node.driver], ['Resource class', node.resource_class], ['Conductor', node.conductor],
    ['Owner', node.owner], ['Lessee', node.lessee],
  ];
  return [
    el('h1', {}, node.name || node.uuid),
    el('div', { class: 'mono muted', id: 'node-uuid' }, node.uuid),
    el('div', { class: 'badges' },
      stateBadge(node.provision_state, { id: 'node-provision-state' }),
      node.target_provision_state ? el('span', { id: 'node-target-state', class: 'target' }, `→ ${node.target_provision_state}`) : null,
      el('span', { id: 'node-power-state', class: `badge tone-${powerTone(node.power_state)}` }, node.power_state || 'power unknown'),
      node.target_power_state ? el('span', { class: 'target' }, `→ ${node.target_power_state}`) : null,
      node.maintenance
        ? el('span', { class: 'flag maint', id: 'node-maintenance' }, node.maintenance_reason ? `maintenance: ${node.maintenance_reason}` : 'maintenance')
        : null,
      node.fault ? el('span', { class: 'flag fault', id: 'node-fault' }, `fault: ${node.fault}`) : null),
    el('dl', { class: 'facts inline' },
      facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, orDash(v))]),
      el('dt', {}, 'Instance'), el('dd', { class: 'mono' }, orDash(node.instance_uuid)),
      el('dt', {}, 'Updated'), el('dd', {}, liveTime(node.updated_at || node.created_at, 'ago'))),
  ];
}

// ---- fields ---------------------------------------------------------------------

function scalar(value) {
  if (value === null || value === undefined || value === '') return el('span', { class: 'muted' }, '—');
  const text = String(value);
  return el('span', { class: ID_LIKE.test(text) ? 'mono' : null }, text);
}

// A value of any shape: scalars as text, lists of scalars as chips, objects and
// other lists as a collapsible key/value list. `path` names it across reloads.
function valueNode(value, path) {
  if (value === null || typeof value !== 'object') return scalar(value);
  const isList = Array.isArray(value);
  if (isList && value.every((v) => v === null || typeof v !== 'object')) {
    return value.length ? el('ul', { class: 'chips' }, value.map((v) => el('li', {}, String(v)))) : el('span', { class: 'muted' }, 'none');
  }
  const keys = Object.keys(value);
  if (!keys.length) return el('span', { class: 'muted' }, 'empty');
  return el('details', { dataset: { path } },
    el('summary', {}, plural(keys.length, isList ? 'item' : 'key')),
    keyValues(value, path, !isList));
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function keyValues(object, path, sorted = true) {
  const keys = Object.keys(object);
  if (sorted) keys.sort();
  return el('dl', { class: 'kv' }, keys.map((k) => [el('dt', {}, k), el('dd', {}, valueNode(object[k], `${path}/${k}`))]));
}

// Every top-level field, keeping open the <details> the operator had open.
function renderFields(container, node) {
  const open = new Set([...container.querySelectorAll('details[open]')].map((d) => d.dataset.path));
  fill(container, keyValues(node, ''));
  for (const details of container.querySelectorAll('details')) details.open = open.has(details.dataset.path);
}

// ---- ports ----------------------------------------------------------------------

function portRows(ports, groupNames) {
  return ports.map((port) => {
    const link = port.local_link_connection || {};
    const vif = (port.internal_info || {}).tenant_vif_port_id;
    return el('tr', { dataset: { portUuid: port.uuid } },
      el('td', { class: 'mono' }, port.address),
      el('td', {}, port.pxe_enabled ? 'yes' : 'no'),
      el('td', {}, orDash(port.physical_network)),
      el('td', {}, orDash(link.switch_info), link.switch_id ? el('span', { class: 'mono muted' }, ` ${link.switch_id}`) : null),
      el('td', { class: 'mono' }, orDash(link.port_id)),
      el('td', {}, port.portgroup_uuid ? groupNames.get(port.portgroup_uuid) || shortId(port.portgroup_uuid) : '—'),
      el('td', { class: 'mono' }, orDash(vif)),
      el('td', { class: 'mono', title: port.uuid }, shortId(port.uuid)));
  });
}

function table(headings, rows, empty) {
  if (!rows.length) return el('p', { class: 'muted' }, empty);
  return el('table', { class: 'data' },
    el('thead', {}, el('tr', {}, headings.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

async function portsContent(uuid) {
  const list = (path, key) => api('GET', `${nodePath(uuid)}/${path}`).then((body) => body[key] || []);
  let ports;
  let groups;
  let vifs;
  try {
    [ports, groups, vifs] = await Promise.all([
      list('ports?detail=True', 'ports'),
      list('portgroups?detail=True', 'portgroups').catch(() => []),
      list('vifs', 'vifs').catch(() => []),
    ]);
  } catch (err) {
    return el('p', { class: 'action-error' }, err.message);
  }
  const groupNames = new Map(groups.map((g) => [g.uuid, g.name || shortId(g.uuid)]));
  return [
    table(['MAC', 'PXE', 'Physical network', 'Switch', 'Switch port', 'Port group', 'VIF', 'UUID'],
      portRows(ports, groupNames), 'No ports.'),
    el('h3', {}, 'Port groups'),
    table(['Name', 'MAC', 'Mode', 'Ports', 'UUID'], groups.map((g) => el('tr', {},
      el('td', {}, orDash(g.name)),
      el('td', { class: 'mono' }, orDash(g.address)),
      el('td', {}, orDash(g.mode)),
      el('td', { class: 'num' }, ports.filter((p) => p.portgroup_uuid === g.uuid).length),
      el('td', { class: 'mono', title: g.uuid }, shortId(g.uuid)))), 'No port groups.'),
    el('h3', {}, 'VIFs'),
    vifs.length
      ? el('ul', { class: 'chips mono', id: 'vifs' }, vifs.map((v) => el('li', {}, v.id)))
      : el('p', { class: 'muted' }, 'No VIFs attached.'),
  ];
}

// ---- inventory: LLDP ------------------------------------------------------------

function bytesOf(hex) {
  if (typeof hex !== 'string' || !/^([0-9a-f]{2})*$/i.test(hex)) return null;
  return (hex.match(/../g) || []).map((pair) => parseInt(pair, 16));
}

const printable = (bytes) => bytes.length > 0 && bytes.every((b) => (b >= 0x20 && b < 0x7f) || b === 9 || b === 10 || b === 13);
const asText = (bytes) => (printable(bytes) ? String.fromCharCode(...bytes).trim() : null);
const asMac = (bytes) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');

// A network address (family 1 = IPv4, 2 = IPv6) of a chassis or port id.
function asAddress([family, ...rest]) {
  if (family === 1 && rest.length === 4) return rest.join('.');
  if (family === 2 && rest.length === 16) {
    return rest.reduce((groups, b, i) => (i % 2 ? groups : [...groups, ((b << 8) | rest[i + 1]).toString(16)]), []).join(':');
  }
  return null;
}

// A chassis id (TLV 1) or port id (TLV 2): a subtype byte, then a MAC, a network
// address or (for the other subtypes) a name.
function asId(bytes, macSubtype, addressSubtype) {
  const [subtype, ...rest] = bytes;
  if (subtype === macSubtype && rest.length === 6) return asMac(rest);
  if (subtype === addressSubtype) return asAddress(rest);
  return asText(rest);
}

const TLVS = {
  1: ['Chassis ID', (b) => asId(b, 4, 5)],
  2: ['Port ID', (b) => asId(b, 3, 4)],
  4: ['Port description', asText],
  5: ['System name', asText],
  6: ['System description', asText],
};

// LLDP TLVs ([type, hex], …) as a list: known types decoded when their bytes allow,
// raw hex otherwise; other types folded away.
function lldpList(lldp) {
  if (!Array.isArray(lldp) || lldp.length === 0) return el('span', { class: 'muted' }, 'none seen');
  const known = [];
  const other = [];
  for (const [type, hex] of lldp) {
    const tlv = TLVS[Number(type)];
    const bytes = bytesOf(hex);
    const decoded = tlv && bytes && bytes.length ? tlv[1](bytes) : null;
    if (tlv) known.push(el('li', {}, `${tlv[0]}: `, decoded ? el('span', {}, decoded) : el('code', { class: 'hex' }, hex)));
    else other.push(el('li', {}, `TLV ${type}: `, el('code', { class: 'hex' }, String(hex))));
  }
  return el('div', { class: 'lldp' },
    el('ul', {}, known),
    other.length ? el('details', {}, el('summary', {}, `${other.length} other TLVs`), el('ul', {}, other)) : null);
}

// ---- inventory and BIOS -------------------------------------------------------

function memoryText(memory = {}) {
  if (memory.physical_mb) return `${(memory.physical_mb / 1024).toFixed(1)} GiB`;
  return gib(memory.total);
}

function summary(inv) {
  const cpu = inv.cpu || {};
  const vendor = inv.system_vendor || {};
  const boot = inv.boot || {};
  const facts = [
    ['CPUs', `${orDash(cpu.count)} × ${orDash(cpu.model_name)} (${orDash(cpu.architecture)})`],
    ['Memory', memoryText(inv.memory)],
    ['System', [vendor.manufacturer, vendor.product_name].filter(Boolean).join(' ') || '—'],
    ['Serial number', orDash(vendor.serial_number)],
    ['Boot', [boot.current_boot_mode, boot.pxe_interface && `PXE from ${boot.pxe_interface}`].filter(Boolean).join(', ') || '—'],
  ];
  return el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function disks(list = []) {
  return table(['Disk', 'Model', 'Size', 'Kind', 'Serial'], list.map((d) => el('tr', {},
    el('td', { class: 'mono' }, orDash(d.name)),
    el('td', {}, orDash(d.model)),
    el('td', { class: 'num' }, gib(d.size)),
    el('td', {}, typeof d.rotational === 'boolean' ? (d.rotational ? 'spinning' : 'solid state') : '—'),
    el('td', { class: 'mono' }, orDash(d.serial)))), 'No disks reported.');
}

function nics(list = []) {
  return table(['NIC', 'MAC', 'IPv4', 'LLDP neighbour'], list.map((nic) => el('tr', {},
    el('td', { class: 'mono' }, orDash(nic.name)),
    el('td', { class: 'mono' }, orDash(nic.mac_address)),
    el('td', { class: 'mono' }, orDash(nic.ipv4_address)),
    el('td', {}, lldpList(nic.lldp)))), 'No network interfaces reported.');
}

// The inventory section's content ("not inspected" when there is none).
async function inventoryContent(uuid) {
  let body;
  try {
    body = await api('GET', `${nodePath(uuid)}/inventory`);
  } catch (err) {
    return err.status === 404
      ? el('p', { class: 'muted', id: 'not-inspected' }, 'Not inspected.')
      : el('p', { class: 'action-error' }, err.message);
  }
  const inv = body.inventory || {};
  return el('div', {},
    summary(inv),
    el('h3', {}, 'Disks'), disks(inv.disks),
    el('h3', {}, 'Network interfaces'), nics(inv.interfaces));
}

// The BIOS settings as a table, or null when the driver has none (or says no).
async function biosContent(uuid) {
  const body = await api('GET', `${nodePath(uuid)}/bios`).catch(() => null);
  const settings = body && Array.isArray(body.bios) ? body.bios : [];
  if (!settings.length) return null;
  return table(['Setting', 'Value'], settings.map((s) => el('tr', {},
    el('td', { class: 'mono' }, s.name), el('td', {}, orDash(s.value)))), 'No settings.');
}

// The RAID configuration built on the node and the one asked for, or null when
// it has neither. Both come with the node, in the driver's logical-disk terms.
function raidContent(node) {
  const logicalDisks = (config) => (config && Array.isArray(config.logical_disks) ? config.logical_disks : []);
  const current = logicalDisks(node.raid_config);
  const target = logicalDisks(node.target_raid_config);
  if (!current.length && !target.length) return null;
  const size = (gb) => (gb === 'MAX' ? 'all free space' : gb === undefined ? '—' : `${gb} GB`);
  const rows = (disks) => disks.map((d) => el('tr', {},
    el('td', {}, orDash(d.volume_name)),
    el('td', {}, orDash(d.raid_level)),
    el('td', {}, size(d.size_gb)),
    el('td', {}, d.is_root_volume ? 'yes' : 'no'),
    el('td', { class: 'mono' }, orDash(d.controller)),
    el('td', { class: 'mono' }, orDash((d.physical_disks || []).join(', ')))));
  const headings = ['Volume', 'RAID level', 'Size', 'Root volume', 'Controller', 'Physical disks'];
  return el('div', {},
    el('h3', {}, 'Built'), table(headings, rows(current), 'No logical disks built yet.'),
    el('h3', {}, 'Requested'), table(headings, rows(target), 'No target configuration.'));
}

// ---- loading --------------------------------------------------------------------

const loadHistory = (uuid) => api('GET', `${nodePath(uuid)}/history?detail=True`)
  .then((body) => body.history || [], () => []);

// What decides which actions the toolbar offers.
const toolbarKey = (node) => JSON.stringify([node.provision_state, node.power_state, node.maintenance]);

function show(page, node, history) {
  const { parts } = page;
  page.node = node;
  parts.notice.textContent = '';
  fill(parts.header, headerContent(node));
  if (env.session.can_act && toolbarKey(node) !== page.toolbarKey) {
    page.toolbarKey = toolbarKey(node);
    fill(parts.actions, nodeToolbar(node, {
      onChange: () => reload(page),
      onDeleted: () => { location.hash = '#/'; },
    }));
  }
  const panels = statusPanels(node, env.session.timeouts);
  parts.status.hidden = panels.length === 0;
  parts.grid.classList.toggle('with-status', panels.length > 0);
  fill(parts.status, panels);
  fill(bodyOf(parts.timeline), timeline(history, node));
  renderFields(bodyOf(parts.fields), node);
  const raid = raidContent(node);
  parts.raid.hidden = !raid;
  if (raid) fill(bodyOf(parts.raid), raid);
}

function gone(page, message) {
  const { parts } = page;
  parts.notice.textContent = message;
  for (const part of [parts.actions, parts.status, parts.grid, parts.fields, parts.ports, parts.inventory, parts.bios, parts.raid]) {
    part.hidden = true;
  }
}

// Reloads the node and its history; calls that come while one runs are folded
// into one more run after it.
async function reload(page) {
  if (page.loading) {
    page.again = true;
    return;
  }
  page.loading = true;
  const { uuid } = page.node;
  try {
    const [node, history] = await Promise.all([api('GET', nodePath(uuid)), loadHistory(uuid)]);
    if (!page.disposed) show(page, node, history);
  } catch (err) {
    if (err.status === 404) gone(page, 'This node no longer exists.');
    else page.parts.notice.textContent = `Could not refresh: ${err.message}`;
  } finally {
    page.loading = false;
    if (page.again && !page.disposed) {
      page.again = false;
      reload(page);
    }
  }
}

async function firstLoad(page, ident) {
  let node;
  try {
    node = await api('GET', nodePath(ident));
  } catch (err) {
    gone(page, err.status === 404 ? `No node is named or numbered "${ident}".` : err.message);
    return;
  }
  const history = await loadHistory(node.uuid);
  if (page.disposed) return;
  show(page, node, history);
  const { parts } = page;
  portsContent(node.uuid).then((content) => fill(bodyOf(parts.ports), content));
  inventoryContent(node.uuid).then((content) => fill(bodyOf(parts.inventory), content));
  biosContent(node.uuid).then((content) => {
    if (content) fill(bodyOf(parts.bios), content);
    parts.bios.hidden = !content;
  });
}

export function render(root, { ident }) {
  const parts = {
    notice: el('p', { class: 'action-error', role: 'alert' }),
    header: el('header', { class: 'node-header' }, el('h1', {}, ident)),
    actions: el('div', {}),
    status: el('section', { class: 'status', hidden: true }),
    timeline: section('section-timeline', 'Timeline'),
    fields: section('section-fields', 'Fields'),
    ports: section('section-ports', 'Ports & port groups'),
    inventory: section('section-inventory', 'Inventory'),
    bios: section('section-bios', 'BIOS'),
    raid: section('section-raid', 'RAID'),
  };
  parts.grid = el('div', { class: 'node-grid' }, parts.timeline, parts.status);
  parts.bios.hidden = true;
  parts.raid.hidden = true;
  for (const part of [parts.timeline, parts.fields, parts.ports, parts.inventory]) {
    fill(bodyOf(part), el('p', { class: 'muted' }, 'Loading…'));
  }
  fill(root,
    el('p', { class: 'crumbs' }, el('a', { href: '#/' }, 'Fleet'), ' / ', ident),
    parts.notice, parts.header, parts.actions, parts.grid, parts.fields, parts.ports, parts.inventory, parts.bios, parts.raid);
  const page = { parts, node: null, toolbarKey: '', loading: false, again: false, disposed: false };
  const stops = [
    subscribe('nodes', ({ nodes = [] }) => {
      if (page.node && nodes.some((n) => n.uuid === page.node.uuid)) reload(page);
    }),
    subscribe('resync', () => page.node && reload(page)),
  ];
  firstLoad(page, ident);
  return () => {
    page.disposed = true;
    for (const stop of stops) stop();
  };
}
