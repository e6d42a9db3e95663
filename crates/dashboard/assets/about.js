// about.js — the about page: the API's microversions, the enabled drivers with the
// interfaces each enables (and its default), and who is signed in.

import { api, env } from './api.js';
import { el, fill, orDash } from './dom.js';

const facts = (pairs) => el('dl', { class: 'facts' }, pairs.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));

// Interface rows of a driver's detail: enabled_<kind>_interfaces and default_<kind>_interface.
function interfaceTable(detail) {
  const kinds = Object.keys(detail)
    .map((key) => key.match(/^enabled_(.+)_interfaces$/))
    .filter(Boolean)
    .map((m) => m[1])
    .sort();
  return el('table', { class: 'data' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Interface'), el('th', {}, 'Enabled'), el('th', {}, 'Default'))),
    el('tbody', {}, kinds.map((kind) => el('tr', {},
      el('td', {}, kind),
      el('td', {}, (detail[`enabled_${kind}_interfaces`] || []).join(', ') || '—'),
      el('td', {}, orDash(detail[`default_${kind}_interface`]))))));
}

async function driverSection(name) {
  const detail = await api('GET', `/v1/drivers/${encodeURIComponent(name)}?detail=True`).catch((err) => err);
  return el('section', { class: 'panel', dataset: { driver: name } },
    el('h3', {}, name, detail.hosts ? el('span', { class: 'muted' }, ` on ${detail.hosts.join(', ')}`) : null),
    detail instanceof Error ? el('p', { class: 'action-error' }, detail.message) : interfaceTable(detail));
}

async function driversContent() {
  const body = await api('GET', '/v1/drivers');
  const names = body.drivers.map((d) => d.name).sort();
  if (!names.length) return el('p', { class: 'muted' }, 'No drivers are enabled.');
  return Promise.all(names.map(driverSection));
}

export function render(root) {
  const { session, versionInfo } = env;
  const drivers = el('div', { id: 'about-drivers' }, el('p', { class: 'muted' }, 'Loading…'));
  fill(root,
    el('h1', {}, 'About'),
    el('section', { class: 'panel', id: 'about-api' }, el('h2', {}, 'API'), facts([
      ['Minimum microversion', versionInfo.min_version],
      ['Maximum microversion', versionInfo.version],
      ['This dashboard asks for', env.apiVersion],
      ['Status', orDash(versionInfo.status)],
    ])),
    el('section', { class: 'panel', id: 'about-session' }, el('h2', {}, 'Signed in'), facts([
      ['User', orDash(session.user)],
      ['Project', orDash(session.project)],
      ['Roles', (session.roles || []).join(', ') || '—'],
      ['Auth strategy', session.auth],
      ['Can act', session.can_act ? 'yes' : 'no (read only)'],
    ])),
    el('section', { class: 'panel' }, el('h2', {}, 'Enabled drivers'), drivers));
  driversContent().then(
    (content) => fill(drivers, content),
    (err) => fill(drivers, el('p', { class: 'action-error' }, err.message)),
  );
}
