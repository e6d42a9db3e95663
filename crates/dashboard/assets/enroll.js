// enroll.js — the enroll form: a node's name, driver and BMC details and its MACs,
// then either a plain enroll, or "test connection & enroll", which verifies the BMC
// by moving the node to manageable and removes the node again when that fails.
// Nothing stays created after a failure.

import { api, env, nodePath } from './api.js';
import {
  FieldError, clearErrors, el, field, fill, readFields, showError,
} from './dom.js';

const POLL_MS = 2000;
const VERIFY_LIMIT_MS = 5 * 60 * 1000;
const PREFERRED_DRIVERS = ['redfish', 'ipmi', 'fake-hardware'];

// driver_info fields per driver; `bmc` marks the field a failed connection is shown at.
const DRIVER_FIELDS = {
  redfish: [
    { name: 'redfish_address', label: 'BMC address', kind: 'url', placeholder: 'https://10.0.0.21', bmc: true, match: /driver_info|address/i },
    { name: 'redfish_system_id', label: 'System ID', placeholder: '/redfish/v1/Systems/1' },
    { name: 'redfish_username', label: 'Username' },
    { name: 'redfish_password', label: 'Password', kind: 'password' },
    { name: 'redfish_verify_ca', label: 'Verify the BMC\'s TLS certificate', kind: 'checkbox', value: true },
  ],
  ipmi: [
    { name: 'ipmi_address', label: 'BMC address', placeholder: '10.0.0.21', bmc: true, match: /driver_info|address/i },
    { name: 'ipmi_port', label: 'Port', kind: 'number', placeholder: '623' },
    { name: 'ipmi_username', label: 'Username' },
    { name: 'ipmi_password', label: 'Password', kind: 'password' },
  ],
  'fake-hardware': [],
};

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function nodeSpecs(drivers) {
  return [
    { name: 'name', label: 'Name', placeholder: 'rack1-node07', match: /\bname\b/i },
    { name: 'driver', label: 'Driver', kind: 'select', options: drivers, value: PREFERRED_DRIVERS.find((d) => drivers.includes(d)) || drivers[0], match: /\bdriver\b/i },
    { name: 'resource_class', label: 'Resource class', value: 'baremetal', match: /resource.class/i },
  ];
}

function driverFieldset(driver) {
  const specs = DRIVER_FIELDS[driver];
  let note = null;
  if (!specs) note = 'This form knows no BMC fields for this driver: set its driver_info on the node after enrolling.';
  else if (!specs.length) note = 'This driver needs no BMC details.';
  return [el('legend', {}, 'BMC'), note ? el('p', { class: 'hint' }, note) : null, (specs || []).map(field)];
}

let macSerial = 0;

function macRow() {
  const row = el('div', { class: 'field mac-row', dataset: { field: `mac-${++macSerial}` } },
    el('input', { class: 'mac mono', 'aria-label': 'MAC address', placeholder: '52:54:00:12:34:56', autocomplete: 'off' }),
    el('button', { type: 'button', class: 'remove', 'aria-label': 'Remove this MAC', onclick: () => row.remove() }, '×'),
    el('span', { class: 'field-error', role: 'alert' }));
  return row;
}

// The POST /v1/nodes body from the form's values.
function nodeBody(values, driverSpecs) {
  const driverInfo = {};
  for (const spec of driverSpecs) {
    const value = values[spec.name];
    if (spec.kind === 'checkbox') driverInfo[spec.name] = value;
    else if (value !== '') driverInfo[spec.name] = spec.kind === 'number' ? Number(value) : value;
  }
  const body = { driver: values.driver, driver_info: driverInfo, properties: {} };
  if (values.name) body.name = values.name;
  if (values.resource_class) body.resource_class = values.resource_class;
  return body;
}

async function addPorts(form, node) {
  for (const row of form.querySelectorAll('.mac-row')) {
    const address = row.querySelector('input').value.trim();
    if (!address) continue;
    try {
      await api('POST', '/v1/ports', { node_uuid: node.uuid, address, pxe_enabled: true });
    } catch (err) {
      throw new FieldError(row.dataset.field, err.message);
    }
  }
}

// Moves the node to manageable, which makes the conductor try the BMC. Resolves to
// true once manageable, false if still verifying after VERIFY_LIMIT_MS; throws the
// node's last_error (at `bmcField`) when it falls back to enroll.
async function verify(node, bmcField) {
  await api('PUT', `${nodePath(node.uuid)}/states/provision`, { target: 'manage' });
  const deadline = Date.now() + VERIFY_LIMIT_MS;
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    const now = await api('GET', `${nodePath(node.uuid)}?fields=provision_state,last_error`);
    if (now.provision_state === 'manageable') return true;
    if (now.provision_state === 'enroll' && now.last_error) throw new FieldError(bmcField, now.last_error);
  }
  return false;
}

// Deletes a node that failed to enroll; says so, or why it could not.
async function discard(node, status) {
  try {
    await api('DELETE', nodePath(node.uuid));
    status.textContent = 'Nothing was kept: the node was removed again.';
  } catch (err) {
    status.textContent = `The node ${node.uuid} was created but could not be removed: ${err.message}`;
  }
}

async function enroll(form, test, status) {
  const driver = form.elements.driver.value;
  const driverSpecs = DRIVER_FIELDS[driver] || [];
  const bmc = driverSpecs.find((s) => s.bmc);
  // Which field an API message is about: driver fields first, then the node's.
  const specs = [...driverSpecs, ...nodeSpecs([driver]).reverse()];
  const values = readFields(form);
  let node = null;
  try {
    node = await api('POST', '/v1/nodes', nodeBody(values, driverSpecs));
    status.textContent = 'Node created; adding its ports…';
    await addPorts(form, node);
    if (test) {
      status.textContent = 'Testing the connection to the BMC…';
      if (!(await verify(node, bmc && bmc.name))) {
        fill(status, 'The BMC check is still running after 5 minutes; the node was kept: ',
          el('a', { href: `#/node/${encodeURIComponent(node.uuid)}` }, node.name || node.uuid), '.');
        return;
      }
    }
    location.hash = `#/node/${encodeURIComponent(node.uuid)}`;
  } catch (err) {
    status.textContent = '';
    showError(form, err, specs);
    if (node) await discard(node, status);
  }
}

function enrollForm(drivers) {
  const driverBox = el('fieldset', { class: 'driver-fields' });
  const macs = el('div', { id: 'mac-rows', class: 'mac-rows' }, macRow());
  const status = el('p', { class: 'enroll-status', role: 'status' });
  const testButton = el('button', { type: 'submit', class: 'primary', id: 'enroll-test' }, 'Test connection & enroll');
  const plainButton = el('button', { type: 'submit', id: 'enroll-submit' }, 'Enroll');
  const form = el('form', { id: 'enroll-form', class: 'enroll', novalidate: true },
    el('fieldset', {}, el('legend', {}, 'Node'), nodeSpecs(drivers).map(field)),
    driverBox,
    el('fieldset', {}, el('legend', {}, 'Network ports'),
      el('p', { class: 'hint' }, 'The MAC address of each NIC the node network-boots from or is reached through.'),
      macs,
      el('button', { type: 'button', id: 'add-mac', onclick: () => macs.append(macRow()) }, 'Add MAC')),
    el('p', { class: 'action-error', role: 'alert' }),
    status,
    el('div', { class: 'buttons' }, testButton, plainButton));
  const select = form.elements.driver;
  select.addEventListener('change', () => fill(driverBox, driverFieldset(select.value)));
  fill(driverBox, driverFieldset(select.value));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const buttons = form.querySelectorAll('button');
    for (const button of buttons) button.disabled = true;
    await enroll(form, event.submitter !== plainButton, status);
    for (const button of buttons) button.disabled = false;
  });
  return form;
}

export function render(root) {
  const title = el('h1', {}, 'Enroll a node');
  if (!env.session.can_act) {
    fill(root, title, el('p', { class: 'muted' }, 'Your role can look but not change anything, so it cannot enroll nodes.'));
    return;
  }
  fill(root, title, el('p', { class: 'muted' }, 'Loading drivers…'));
  api('GET', '/v1/drivers').then(
    (body) => fill(root, title, enrollForm(body.drivers.map((d) => d.name))),
    (err) => fill(root, title, el('p', { class: 'action-error' }, `Cannot list the drivers: ${err.message}`)),
  );
}
