// networks.js — the networks page: each network with its role, VLAN and subnets,
// and every bound port — which node's NIC, on which switch port, is on which
// network (and so which VLAN) now. Read from the network API; refetched when nodes
// change (a flip follows a provision state change) and every 30 s.

import { net } from './api.js';
import { el, fill, orDash, shortId } from './dom.js';
import { subscribe } from './live.js';

const REFRESH_MS = 30000;
const CHANGE_THROTTLE_MS = 5000;
// Bound ports shown: the first page of the network API's port list.
const PORT_PAGE = 1000;

function vlanOf(network) {
  const id = network['provider:segmentation_id'];
  return id === null || id === undefined ? '—' : String(id);
}

function networkRow(network, subnets) {
  const cidrs = subnets.filter((s) => s.network_id === network.id).map((s) => s.cidr);
  return el('tr', { dataset: { network: network.id } },
    el('td', {}, network.name || shortId(network.id)),
    el('td', {}, orDash(network.role)),
    el('td', { class: 'num vlan' }, vlanOf(network)),
    el('td', {}, orDash(network['provider:network_type'])),
    el('td', {}, orDash(network['provider:physical_network'])),
    el('td', { class: 'mono' }, cidrs.join(', ') || '—'),
    el('td', {}, network.shared ? 'yes' : 'no'),
    el('td', { class: 'mono' }, orDash(network.project_id)));
}

// The switch port a bound port is plugged into, from its binding profile.
function switchPort(port) {
  const links = (port['binding:profile'] || {}).local_link_information || [];
  if (!links.length) return '—';
  return links.map((l) => `${l.switch_info || l.switch_id || '?'} ${l.port_id || ''}`.trim()).join(', ');
}

function portRow(port, networks) {
  const network = networks.get(port.network_id);
  const host = port['binding:host_id'];
  return el('tr', { dataset: { port: port.id } },
    el('td', {}, host ? el('a', { href: `#/node/${encodeURIComponent(host)}` }, shortId(host)) : '—'),
    el('td', { class: 'mono' }, port.mac_address),
    el('td', { class: 'mono switch-port' }, switchPort(port)),
    el('td', {}, network ? network.name || shortId(network.id) : shortId(port.network_id)),
    el('td', { class: 'num vlan' }, network ? vlanOf(network) : '—'),
    el('td', { class: 'mono' }, (port.fixed_ips || []).map((ip) => ip.ip_address).join(', ') || '—'),
    el('td', {}, orDash(port.status)),
    el('td', {}, orDash(port.device_owner)));
}

function table(id, headings, body) {
  return el('div', { class: 'table-wrap' }, el('table', { id, class: 'data' },
    el('thead', {}, el('tr', {}, headings.map((h) => el('th', {}, h)))), body));
}

export function render(root) {
  const status = el('p', { class: 'muted', role: 'status' }, 'Loading…');
  const networkBody = el('tbody', {});
  const portBody = el('tbody', {});
  fill(root,
    el('h1', {}, 'Networks'),
    status,
    table('networks-table', ['Network', 'Role', 'VLAN', 'Type', 'Physical network', 'Subnets', 'Shared', 'Project'], networkBody),
    el('h2', {}, 'Bound ports: which switch port is on which VLAN now'),
    table('bound-ports-table', ['Node', 'MAC', 'Switch port', 'Network', 'VLAN', 'Addresses', 'Status', 'Owner'], portBody));
  let pending = false;
  const load = async () => {
    if (pending) return;
    pending = true;
    try {
      const [networks, subnets, ports] = await Promise.all([
        net('/v2.0/networks'), net('/v2.0/subnets'), net(`/v2.0/ports?limit=${PORT_PAGE}`),
      ]);
      const byId = new Map(networks.networks.map((n) => [n.id, n]));
      fill(networkBody, networks.networks.map((n) => networkRow(n, subnets.subnets)));
      const bound = ports.ports.filter((p) => p['binding:host_id']);
      fill(portBody, bound.map((p) => portRow(p, byId)));
      const more = ports.ports.length >= PORT_PAGE ? ` Showing the first ${PORT_PAGE} ports only.` : '';
      status.textContent = (networks.networks.length ? '' : 'No networks yet.') + more;
    } catch (err) {
      status.textContent = err.status === 404
        ? 'This Ferric serves no network API (its networks are in an external Neutron).'
        : err.message;
    } finally {
      pending = false;
    }
  };
  load();
  // A flip follows a provision state change: read again, at most every few seconds.
  let last = 0;
  const stop = subscribe('nodes', () => {
    if (Date.now() - last < CHANGE_THROTTLE_MS) return;
    last = Date.now();
    load();
  });
  const timer = setInterval(load, REFRESH_MS);
  return () => {
    clearInterval(timer);
    stop();
  };
}
